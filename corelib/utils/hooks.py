"""``torch.utils.hooks``: the handle returned by every hook registration."""
from ..nn.modules.module import RemovableHandle

__all__ = ["RemovableHandle"]
