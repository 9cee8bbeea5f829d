"""Batch normalization (torch's _NormBase/_BatchNorm): BatchNorm1d, BatchNorm2d, BatchNorm3d."""
from __future__ import annotations

from ... import _dtype as D
from ...ops.creation import empty, ones, tensor, zeros
from .. import functional as F
from .._functional.normalization import check_batch_norm
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """Affine parameters and running statistics shared by batch and instance norm."""
    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(empty(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=D.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def _load_plan(self, state_dict, prefix, *args):
        # torch: checkpoints from before num_batches_tracked existed (no version metadata, or
        # version < 2) keep the module's current count instead of reporting the key missing
        metadata = getattr(state_dict, "_metadata", None) or {}
        version = metadata.get(prefix[:-1], {}).get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and \
                key not in state_dict:
            state_dict[key] = self.num_batches_tracked if self.num_batches_tracked is not None \
                else tensor(0, dtype=D.int64)
        super()._load_plan(state_dict, prefix, *args)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):

    def forward(self, input):
        self._check_input_dim(input)
        bn_training = True if self.training else \
            (self.running_mean is None and self.running_var is None)
        use_buffers = not self.training or self.track_running_stats
        # validate first, so a bad batch does not advance num_batches_tracked (torch does)
        check_batch_norm(
            input, self.running_mean if use_buffers else None,
            self.running_var if use_buffers else None, self.weight, self.bias, bn_training)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            # momentum=None: cumulative moving average (torch)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None \
                else self.momentum
        return F.batch_norm(input, self.running_mean if use_buffers else None,
                            self.running_var if use_buffers else None, self.weight, self.bias,
                            bn_training, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    r"""Batch normalization over (N, C) or (N, C, L) input:
    :math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} \gamma + \beta`.

    Args:
        num_features: C. eps=1e-5. momentum=0.1 (None: cumulative average).
        affine=True: learn gamma (ones) and beta (zeros). track_running_stats=True.

    In training the batch statistics normalize and update running_mean/running_var
    (unbiased variance); in eval mode the running statistics normalize.

    Examples::

        >>> m = nn.BatchNorm1d(100)
        >>> m(torch.randn(20, 100)).size()
        torch.Size([20, 100])
    """

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization over the channels of (N, C, H, W) input (see BatchNorm1d)."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalization over the channels of (N, C, D, H, W) input."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")
