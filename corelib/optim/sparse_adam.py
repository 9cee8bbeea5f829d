"""SparseAdam as torch 2.13's ``torch.optim.SparseAdam``: construction, validation and errors.

torch's SparseAdam updates only the rows a sparse (COO) gradient names, and refuses dense
gradients. plugrad has no sparse tensors -- ``nn.Embedding(sparse=True)`` produces a dense
gradient -- so every gradient it meets is dense and ``step`` raises torch's RuntimeError for
it, exactly as torch does when handed a dense gradient. Use ``Adam`` (the same update for every
row) until sparse gradients exist.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """SparseAdam (needs sparse gradients: see the module docstring).

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float or Tensor, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): decay of the averages (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator (default: 1e-8).
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[i, j] for i, group in enumerate(self.param_groups)
                          for j, p in enumerate(group["params"]) if p.dtype.is_complex]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    def step(self, closure=None):
        """torch's check of every gradient; plugrad's gradients are dense, so it raises."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and not p.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
        return loss
