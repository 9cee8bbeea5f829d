"""``torch._dynamo.exc``: the exception types compiled code raises."""
from __future__ import annotations


class TorchDynamoException(RuntimeError):
    """Base of torch._dynamo's exceptions (a RuntimeError, as torch's)."""


class Unsupported(TorchDynamoException):
    """A graph break under ``fullgraph=True``: the function cannot be captured whole."""


class UserError(TorchDynamoException):
    """A user-facing capture error."""
