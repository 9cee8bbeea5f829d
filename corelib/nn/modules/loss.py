"""Loss modules: thin wrappers over ``nn.functional`` losses with a ``reduction``."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["MSELoss"]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)


class MSELoss(_Loss):
    """Mean squared error between input and target: mean((x - y)^2) by default."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
