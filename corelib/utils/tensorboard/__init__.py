"""``torch.utils.tensorboard``: ``SummaryWriter`` over the ``tensorboard`` package.

As in torch, the package is required: importing this module without it raises torch's
ImportError. Events are written with tensorboard's own event-file writer and protos, so
``tensorboard --logdir runs`` reads them.
"""
try:
    from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: F401
except ImportError:
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above") from None

from .writer import SummaryWriter  # noqa: E402,F401

__all__ = ["SummaryWriter"]
