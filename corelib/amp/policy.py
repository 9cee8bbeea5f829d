"""torch's autocast op lists, per device type: which ops run in the lower-precision dtype,
which in float32, and which promote their inputs to the widest floating type.

From torch's ``autocast_mode.cpp`` (and the "Autocast Op Reference" of torch.amp's docs),
limited to the ops plugrad has. ``opencl`` follows the cuda lists (a GPU-style device).
"""
from __future__ import annotations

_CUDA_LOWER = ("matmul", "mm", "bmm", "mv", "addmm", "addbmm", "baddbmm", "addmv", "addr",
               "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "prelu", "chain_matmul", "scaled_dot_product_attention",
               "__matmul__", "__rmatmul__")
_CUDA_FP32 = ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
              "reciprocal", "rsqrt", "sinh", "tan", "pow", "__pow__", "__rpow__", "softplus",
              "layer_norm", "group_norm", "norm", "cosine_similarity", "poisson_nll_loss",
              "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss", "kl_div", "l1_loss",
              "smooth_l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss",
              "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss",
              "multi_margin_loss", "binary_cross_entropy_with_logits", "dist", "pdist", "cdist",
              "renorm", "logsumexp", "cumprod", "cumsum", "prod", "sum", "softmax", "softmin",
              "log_softmax", "cross_entropy", "normalize")
_CPU_LOWER = ("conv1d", "conv2d", "conv3d", "bmm", "mm", "baddbmm", "addmm", "addbmm", "linear",
              "matmul", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu",
              "scaled_dot_product_attention", "__matmul__", "__rmatmul__")
_CPU_FP32 = ("avg_pool3d", "binary_cross_entropy", "grid_sample", "prod", "quantile",
             "nanquantile", "cdist", "trace", "mse_loss", "cosine_embedding_loss", "nll_loss",
             "hinge_embedding_loss", "poisson_nll_loss", "smooth_l1_loss", "cross_entropy",
             "l1_loss", "huber_loss", "margin_ranking_loss", "soft_margin_loss",
             "triplet_margin_loss", "multi_margin_loss", "ctc_loss", "kl_div",
             "multilabel_margin_loss", "binary_cross_entropy_with_logits")
_PROMOTE = ("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "grid_sample",
            "index_put", "scatter_add", "tensordot", "cat", "stack")

LOWER, FP32, PROMOTE = "lower", "fp32", "promote"


def _table(lower, fp32):
    table = {name: PROMOTE for name in _PROMOTE}
    table.update({name: FP32 for name in fp32})
    table.update({name: LOWER for name in lower})
    return table


POLICY = {"cpu": _table(_CPU_LOWER, _CPU_FP32), "cuda": _table(_CUDA_LOWER, _CUDA_FP32),
          "opencl": _table(_CUDA_LOWER, _CUDA_FP32)}
"""device type -> op name -> LOWER / FP32 / PROMOTE."""

DEFAULT_DTYPE = {"cpu": "bfloat16", "cuda": "float16", "opencl": "float16"}
ALL_NAMES = frozenset(n for table in POLICY.values() for n in table)
