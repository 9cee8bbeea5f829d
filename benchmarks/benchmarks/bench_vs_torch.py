"""plugrad/PyTorch time ratios on the headline workloads (below 1: plugrad is faster).

Both sides run the same code (common.py writes each workload once for any torch-like module),
on the same data, sampled in turns in one process with one synchronize per sample. The second
parameter is PyTorch's device: plugrad's cpu is compared with PyTorch's cpu, cuda with cuda,
other backends with both. Without PyTorch (or its CUDA) the ratios are n/a.
"""
import plugrad

try:  # imported once by asv's fork server, not once per benchmark process
    import torch  # noqa: F401
except ImportError:
    pass

from . import common
from .common import BACKENDS, best_seconds, require, torch_on

_SAME_KIND = {"cpu": "cpu", "cuda": "cuda"}


class _VsTorch:
    params = [BACKENDS, ["cpu", "cuda"]]
    param_names = ["backend", "torch_device"]
    workload = None
    repeat = 5

    def setup(self, backend, torch_device):
        if _SAME_KIND.get(backend, torch_device) != torch_device:
            raise NotImplementedError(f"plugrad {backend} is compared with torch "
                                      f"{_SAME_KIND[backend]} only")
        sync = require(backend)
        lib, torch_sync = torch_on(torch_device)
        self.pairs = ((self.workload(plugrad, backend), sync),
                      (self.workload(lib, torch_device), torch_sync))

    def track_ratio(self, backend, torch_device):
        ours, theirs = best_seconds(*self.pairs, repeat=self.repeat)
        return ours / theirs
    track_ratio.unit = "plugrad/torch"


class Add2x2(_VsTorch):
    workload = staticmethod(common.add_small)


class MulSum2x2(_VsTorch):
    workload = staticmethod(common.mul_sum_small)


class Chain100ForwardBackward(_VsTorch):
    workload = staticmethod(common.chain_backward)


class MulAdd4M(_VsTorch):
    workload = staticmethod(common.mul_add_large)


class Matmul1024(_VsTorch):
    workload = staticmethod(common.matmul_1024)
    repeat = 3


class Conv2d32x16x32x32(_VsTorch):
    workload = staticmethod(common.conv2d_large)
    repeat = 3


class MlpAdamStepBatch64(_VsTorch):
    workload = staticmethod(common.mlp_step)


class CnnAdamStepBatch64(_VsTorch):
    workload = staticmethod(common.cnn_step)
    repeat = 3


class GptTrainingStep(_VsTorch):
    """nanoGPT char-like: 4 pre-LN blocks, width 128, 12x64 tokens, AdamW, clipping."""
    workload = staticmethod(common.model_step("gpt"))
    repeat = 3


class LstmTrainingStep(_VsTorch):
    """word_language_model-like: 2-layer LSTM 128/256, vocab 1000, 35x20 tokens, Adam."""
    workload = staticmethod(common.model_step("lstm"))
    repeat = 3


class CnnTrainingStep(_VsTorch):
    """Two conv-bn-relu-pool blocks and a linear head, batch 32 of 1x28x28, SGD momentum."""
    workload = staticmethod(common.model_step("cnn"))
    repeat = 3
