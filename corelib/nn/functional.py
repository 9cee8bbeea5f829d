"""``torch.nn.functional``: the functional form of every layer, activation and loss.

Each family lives in :mod:`plugrad.nn._functional` (one file per family); this module is the
flat namespace PyTorch users import as ``F``. Functions are compositions of plugrad ops -- so
they run on every backend -- and where PyTorch users see a specific ``grad_fn`` name the
result is renamed to match.
"""
from __future__ import annotations

from ._functional.activation import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
from ._functional.conv import (conv1d, conv2d, conv3d, conv_transpose1d,  # noqa: F401
                               conv_transpose2d, conv_transpose3d)
from ._functional.embedding_bag import embedding_bag  # noqa: F401
from ._functional.ctc import ctc_loss  # noqa: F401
from ._functional.extra_layers import *  # noqa: F401,F403
from ._functional.fold import fold, unfold  # noqa: F401
from ._functional.fractional import *  # noqa: F401,F403
from ._functional.unpool import max_unpool1d, max_unpool2d, max_unpool3d  # noqa: F401
from ._functional.gumbel import gumbel_softmax  # noqa: F401
from ._functional.margin import *  # noqa: F401,F403
from ._functional.sampling import affine_grid, grid_sample  # noqa: F401
from ._functional.distance import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.linear import *  # noqa: F401,F403
from ._functional.linear_cross_entropy import linear_cross_entropy  # noqa: F401
from ._functional.loss import *  # noqa: F401,F403
from ._functional.loss import legacy_reduction as _legacy_reduction  # noqa: F401
from ._functional.normalization import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.sparse import *  # noqa: F401,F403
from ._functional.vision import *  # noqa: F401,F403
