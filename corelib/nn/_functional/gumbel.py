"""gumbel_softmax: softmax((logits + g) / tau) with g = -log(Exponential(1)) noise drawn as
torch draws it (``exponential_`` on a tensor shaped like the logits), so after the same seed
the samples equal torch's. ``hard=True`` returns the one-hot argmax with the soft sample's
gradient (straight-through)."""
from __future__ import annotations

import warnings

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A (differentiable) sample from the Gumbel-softmax distribution over ``dim``."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -logits.new_empty(logits.shape).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = logits.new_zeros(logits.shape).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
