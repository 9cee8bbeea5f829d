"""Host<->device transfer and peak memory.

Transfers use PyTorch's idioms, ``from_numpy(x).to(device)`` and ``t.cpu().numpy()``; on the
cpu backend both are (correctly) nearly free, since no copy is needed. ``peakmem_*`` is asv's
peak resident memory of the benchmark process (setup included), so it shows the host side of
every backend; ``track_cuda_peak_bytes`` adds the device side where the backend reports it.
"""
import numpy as np
import plugrad

from .common import BACKENDS, digits_like, mlp, need, require, train_step


class Transfer:
    params = [BACKENDS, ["4KiB", "16MiB"]]
    param_names = ["backend", "size"]

    def setup(self, backend, size):
        self.sync = require(backend)
        n = 1024 if size == "4KiB" else 4 << 20
        self.host = np.random.default_rng(0).standard_normal(n).astype(np.float32)
        self.dev = plugrad.from_numpy(self.host).to(backend)
        self.sync()

    def time_host_to_device(self, backend, size):
        plugrad.from_numpy(self.host).to(backend)
        self.sync()

    def time_device_to_host(self, backend, size):
        self.dev.cpu().numpy()
        self.sync()


class PeakMemory:
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self.sync = require(backend)

    def peakmem_mul_add_4M(self, backend):
        a, b, c = (plugrad.rand(4 << 20, device=backend) for _ in range(3))
        a * b + c
        self.sync()


def _mlp_full_batch_steps(backend, sync, steps=3):
    plugrad.manual_seed(0)
    model = mlp(plugrad).to(backend)
    opt = plugrad.optim.Adam(model.parameters(), lr=1e-3)
    x, y = digits_like()
    step = train_step(plugrad, model, opt, plugrad.tensor(x, device=backend),
                      plugrad.tensor(y, device=backend))
    for _ in range(steps):
        step()
    sync()


class PeakMemoryTraining:
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self.sync = require(backend)
        need(plugrad.nn.functional, "cross_entropy")

    def peakmem_mlp_full_batch_steps(self, backend):
        _mlp_full_batch_steps(backend, self.sync)


class DeviceMemory:
    """Peak device memory of the MLP's full-batch steps, for backends that report it."""
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self.sync = require(backend)
        need(plugrad.nn.functional, "cross_entropy")
        if backend != "cuda":
            raise NotImplementedError("device memory statistics: plugrad.cuda only")

    def track_peak_bytes_mlp_full_batch(self, backend):
        plugrad.cuda.reset_peak_memory_stats()
        _mlp_full_batch_steps(backend, self.sync)
        return plugrad.cuda.max_memory_allocated()
    track_peak_bytes_mlp_full_batch.unit = "bytes"
