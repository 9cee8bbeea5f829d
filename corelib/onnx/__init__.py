"""``torch.onnx``: importable, so programs that import it run; exporting is not supported.

torch exports by tracing the model into a graph. plugrad records no graph a program could be
exported from yet, so ``export`` raises NotImplementedError saying so (save the state_dict
with ``torch.save`` and export from PyTorch instead).
"""
from __future__ import annotations

import enum

__all__ = ["export", "dynamo_export", "is_in_onnx_export", "OperatorExportTypes", "TrainingMode",
           "OnnxExporterError"]


class OnnxExporterError(RuntimeError):
    """torch.onnx.OnnxExporterError."""


class OperatorExportTypes(enum.IntEnum):
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


class TrainingMode(enum.IntEnum):
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


_MESSAGE = ("torch.onnx.{}: plugrad cannot export ONNX graphs (it has no model tracer); save the "
            "weights with torch.save(model.state_dict(), path), load them into the same model in "
            "PyTorch and export from there")


def export(model, args=(), f=None, **kwargs):
    raise NotImplementedError(_MESSAGE.format("export"))


def dynamo_export(model, *args, **kwargs):
    raise NotImplementedError(_MESSAGE.format("dynamo_export"))


def is_in_onnx_export() -> bool:
    return False
