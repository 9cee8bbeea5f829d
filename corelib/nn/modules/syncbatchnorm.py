"""SyncBatchNorm: batch normalization whose statistics cover the batch of every rank.

In training the per-channel mean and (biased) variance are sums over all ranks' samples, made
with a differentiable all-reduce (its backward all-reduces the gradient), so autograd gives
each rank the gradient of the global normalization. Two passes (mean, then centred squares)
keep the variance as accurate as BatchNorm's. Outside training, or with one process, it is
BatchNorm (torch falls back the same way).
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops.creation import full
from ...ops.movement import cat
from .._functional.normalization import _channel_view, _normalize, check_batch_norm
from .batchnorm import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    r"""Batch normalization over (N, C, \*) input with statistics from all ranks of
    ``process_group`` (default: every rank). Args as BatchNorm1d/2d/3d."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _world(self):
        from ... import distributed as dist
        if not dist.is_initialized():
            return 1
        return dist.get_world_size(self.process_group)

    def forward(self, input):
        from ...distributed.nn.functional import all_reduce as _all_reduce
        if not self.training or self._world() <= 1:
            return super().forward(input)
        self._check_input_dim(input)
        check_batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                         True)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None \
                else self.momentum
        c = input.shape[1]
        dims = (0,) + tuple(range(2, input.ndim))
        view = lambda t: _channel_view(t, input.ndim)  # noqa: E731
        local = full((1,), float(input.numel() // c), dtype=input.dtype, device=input.device)
        sums = _all_reduce(cat([input.sum(dims), local]), group=self.process_group)
        count = float(sums[c].item())
        mean = sums[:c] / count
        centred = input - view(mean)
        var = _all_reduce((centred * centred).sum(dims), group=self.process_group) / count
        if self.track_running_stats:
            with no_grad():
                self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
                self.running_var.mul_(1 - factor).add_(var.detach() * (count / (count - 1))
                                                       * factor)
        return _normalize(input, mean, var, self.eps, self.weight, self.bias, view)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """A copy of ``module``'s tree with every BatchNorm*d replaced by SyncBatchNorm (same
        parameters and running statistics)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


