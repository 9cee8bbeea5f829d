"""Training workloads: optimizer steps, the digits MLP step and epoch, a small CNN step, and the
real-model steps (GPT, LSTM LM, CNN) of plugrad/_bench_models.py.

Data has the digits set's shape (1797 x 64 floats, 10 classes); see ``common.digits_like``.
"""
import plugrad

from .common import (BACKENDS, DIGITS_N, digits_like, mlp, model_step, need, require, small_cnn,
                     train_step)


class OptimizerStep:
    """``opt.step()`` over the MLP's parameters (about 85k floats in 6 tensors), grads set."""
    params = [BACKENDS, ["SGD", "SGD-momentum", "Adam"]]
    param_names = ["backend", "optimizer"]

    def setup(self, backend, optimizer):
        self.sync = require(backend)
        plugrad.manual_seed(0)
        model = mlp(plugrad).to(backend)
        for p in model.parameters():
            p.grad = plugrad.rand(*p.shape, device=backend)
        if optimizer == "Adam":
            self.opt = plugrad.optim.Adam(model.parameters(), lr=1e-3)
        else:
            momentum = 0.9 if optimizer == "SGD-momentum" else 0.0
            self.opt = plugrad.optim.SGD(model.parameters(), lr=1e-3, momentum=momentum)
        self.opt.step()  # creates the optimizer state outside the timing
        self.sync()

    def time_step(self, backend, optimizer):
        self.opt.step()
        self.sync()


class DigitsMLP:
    """The 64-256-256-10 MLP with Adam and cross-entropy: one step at batch 64 and full batch."""
    params = [BACKENDS, [64, DIGITS_N]]
    param_names = ["backend", "batch"]

    def setup(self, backend, batch):
        self.sync = require(backend)
        plugrad.manual_seed(0)
        model = mlp(plugrad).to(backend)
        opt = plugrad.optim.Adam(model.parameters(), lr=1e-3)
        x, y = digits_like()
        self.step = train_step(plugrad, model, opt, plugrad.tensor(x[:batch], device=backend),
                               plugrad.tensor(y[:batch], device=backend))
        self.step()
        self.sync()

    def time_train_step(self, backend, batch):
        self.step()
        self.sync()


class DigitsEpoch:
    """One epoch of the digits MLP at batch 64 (29 steps), batches already on the device."""
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self.sync = require(backend)
        cross_entropy = need(plugrad.nn.functional, "cross_entropy")
        plugrad.manual_seed(0)
        self.model = mlp(plugrad).to(backend)
        self.opt = plugrad.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = cross_entropy
        x, y = digits_like()
        self.batches = [(plugrad.tensor(x[i:i + 64], device=backend),
                         plugrad.tensor(y[i:i + 64], device=backend))
                        for i in range(0, DIGITS_N, 64)]

    def time_epoch(self, backend):
        model, opt, loss_fn = self.model, self.opt, self.loss
        for xb, yb in self.batches:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        self.sync()

    def time_epoch_with_loss_item(self, backend):
        # the usual loop that prints the loss: one device-to-host read per step
        model, opt, loss_fn = self.model, self.opt, self.loss
        for xb, yb in self.batches:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()
        self.sync()


class SmallCNN:
    """conv(1->16) relu conv(16->32) relu linear on 1x8x8 digits, Adam, batch 64."""
    params = [BACKENDS]
    param_names = ["backend"]

    def setup(self, backend):
        self.sync = require(backend)
        plugrad.manual_seed(0)
        model = small_cnn(plugrad).to(backend)
        opt = plugrad.optim.Adam(model.parameters(), lr=1e-3)
        x, y = digits_like()
        self.step = train_step(plugrad, model, opt,
                               plugrad.tensor(x[:64].reshape(64, 1, 8, 8), device=backend),
                               plugrad.tensor(y[:64], device=backend))
        self.step()
        self.sync()

    def time_train_step(self, backend):
        self.step()
        self.sync()


class RealModelStep:
    """One training step of the real-model benchmarks (GPT, LSTM LM, CNN) per backend."""
    params = [BACKENDS, ["gpt", "lstm", "cnn"]]
    param_names = ["backend", "model"]
    timeout = 300

    def setup(self, backend, model):
        self.sync = require(backend)
        self.step = model_step(model)(plugrad, backend)
        self.step()
        self.sync()

    def time_train_step(self, backend, model):
        self.step()
        self.sync()


class RealModelStepCompiled:
    """The same steps under ``plugrad.compile`` (captured on the second call, replayed after):
    compare with RealModelStep for the replay's gain."""
    params = [BACKENDS, ["gpt", "lstm", "cnn"]]
    param_names = ["backend", "model"]
    timeout = 300

    def setup(self, backend, model):
        self.sync = require(backend)
        import importlib.util
        if importlib.util.find_spec("plugrad.compile.program") is None:
            raise NotImplementedError("no capture-and-replay plugrad.compile at this commit")
        self.step = plugrad.compile(model_step(model)(plugrad, backend))
        for _ in range(3):
            self.step()
        self.sync()

    def time_train_step(self, backend, model):
        self.step()
        self.sync()
