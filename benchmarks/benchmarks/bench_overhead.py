"""Per-op dispatch overhead and autograd overhead.

The ``track_*_us`` values are microseconds per op: the best of several samples, each many ops
long with one synchronize at its end (so launches count, one device round trip per op does
not). bench_vs_torch.py has the same workloads as plugrad/PyTorch ratios.
"""
import plugrad

from .common import BACKENDS, best_seconds, chain, require

CHAIN_OPS = 100


def _pair(lib, device, shape, requires_grad=False):
    a = lib.rand(*shape, device=device, requires_grad=requires_grad)
    return a, lib.rand(*shape, device=device)


class Dispatch:
    """2x2 float32 ops: what a Python-level op costs when the arithmetic is free."""
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self.sync = require(backend)
        self.a, self.b = _pair(plugrad, backend, (2, 2))

    def _add(self):
        return self.a + self.b

    def _mul_sum(self):
        return (self.a * self.b).sum()

    def time_add(self, backend):
        self.a + self.b
        self.sync()

    def time_mul_sum(self, backend):
        (self.a * self.b).sum()
        self.sync()

    def time_add_inplace(self, backend):
        self.a.add_(self.b)
        self.sync()

    def time_tensor_from_list(self, backend):
        plugrad.tensor([[1.0, 2.0], [3.0, 4.0]], device=backend)
        self.sync()

    def track_add_us(self, backend):
        return best_seconds((self._add, self.sync))[0] * 1e6
    track_add_us.unit = "us/op"

    def track_mul_sum_us(self, backend):
        return best_seconds((self._mul_sum, self.sync))[0] * 1e6
    track_mul_sum_us.unit = "us/expr"


class Autograd:
    """Forward and backward through a chain of 100 elementwise ops on 16 elements."""
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self.sync = require(backend)
        self.args = self._args(plugrad, backend)

    @staticmethod
    def _args(lib, device):
        x = lib.rand(16, device=device, requires_grad=True)
        return (x, *(lib.rand(16, device=device) for _ in range(3)))

    def _step(self):
        chain(*self.args, ops=CHAIN_OPS).backward()

    def time_forward(self, backend):
        with plugrad.no_grad():
            chain(*self.args, ops=CHAIN_OPS)
        self.sync()

    def time_forward_backward(self, backend):
        self._step()
        self.sync()

    def track_forward_backward_us_per_op(self, backend):
        return best_seconds((self._step, self.sync), repeat=5)[0] * 1e6 / CHAIN_OPS
    track_forward_backward_us_per_op.unit = "us/op"
