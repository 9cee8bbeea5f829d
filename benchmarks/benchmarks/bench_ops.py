"""Primitive ops, small and large, on every backend: elementwise, reductions, matmul, conv2d.

"small" sizes measure per-op Python and launch overhead; "large" ones measure whether the op
runs at the array library's (or the kernel's) own speed. Every timed body ends with the
backend's ``synchronize()``.
"""
import plugrad

from .common import BACKENDS, LARGE, SMALL, need, randn, require


class Elementwise:
    params = [BACKENDS, ["small", "large"]]
    param_names = ["backend", "size"]

    def setup(self, backend, size):
        self.sync = require(backend)
        shape = SMALL if size == "small" else LARGE
        self.a, self.b, self.c = (randn(shape, backend, s) for s in range(3))

    def time_add(self, backend, size):
        self.a + self.b
        self.sync()

    def time_mul_add(self, backend, size):
        self.a * self.b + self.c
        self.sync()

    def time_exp(self, backend, size):
        self.a.exp()
        self.sync()

    def time_relu(self, backend, size):
        self.a.relu()
        self.sync()

    def time_where(self, backend, size):
        plugrad.where(self.a > 0, self.a, self.b)
        self.sync()


class Reduction:
    params = [BACKENDS, ["small", "large"]]
    param_names = ["backend", "size"]

    def setup(self, backend, size):
        self.sync = require(backend)
        self.a = randn(SMALL if size == "small" else LARGE, backend)

    def time_sum(self, backend, size):
        self.a.sum()
        self.sync()

    def time_sum_dim(self, backend, size):
        self.a.sum(dim=1)
        self.sync()

    def time_mean(self, backend, size):
        self.a.mean()
        self.sync()

    def time_max_dim(self, backend, size):
        self.a.max(dim=1)
        self.sync()

    def time_softmax(self, backend, size):
        self.a.softmax(dim=1)
        self.sync()


class Matmul:
    params = [BACKENDS, [16, 256, 1024]]
    param_names = ["backend", "n"]

    def setup(self, backend, n):
        self.sync = require(backend)
        self.a, self.b = randn((n, n), backend, 0), randn((n, n), backend, 1)
        self.bias = randn((n,), backend, 2)

    def time_matmul(self, backend, n):
        self.a @ self.b
        self.sync()

    def time_linear_batched(self, backend, n):
        # the Linear layer's shape: (batch, in) @ (out, in)^T + bias
        plugrad.nn.functional.linear(self.a, self.b, self.bias)
        self.sync()


class Conv2d:
    # small: one 8x8 digit through 4 filters; large: a 32x16x32x32 batch through 32 filters
    params = [BACKENDS, ["small", "large"]]
    param_names = ["backend", "size"]

    def setup(self, backend, size):
        self.sync = require(backend)
        self.conv2d = need(plugrad.nn.functional, "conv2d")
        x_shape, w_shape = (((1, 1, 8, 8), (4, 1, 3, 3)) if size == "small"
                            else ((32, 16, 32, 32), (32, 16, 3, 3)))
        self.x = randn(x_shape, backend, 0).requires_grad_()
        self.w = randn(w_shape, backend, 1).requires_grad_()

    def time_conv2d(self, backend, size):
        with plugrad.no_grad():
            self.conv2d(self.x, self.w, padding=1)
        self.sync()

    def time_conv2d_forward_backward(self, backend, size):
        self.conv2d(self.x, self.w, padding=1).sum().backward()
        self.sync()
