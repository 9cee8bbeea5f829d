"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional, batch_first, LSTM proj_size)
and their single-step cells.

Each layer projects the whole input sequence with one matmul, then loops over time with the
cell math of torch's CPU kernels (aten/src/ATen/native/RNN.cpp): the same gate order
(LSTM i, f, g, o; GRU r, z, n), GRU's ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and
``h' = (h - n) * z + n``, and dropout (torch's bernoulli stream) between layers in training.
Layers without projections run that loop as one fused autograd node per direction
(:mod:`plugrad.nn._functional.rnn`, the same arithmetic with a few backend calls per step);
the cells and LSTM with ``proj_size`` compose it from ops.
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings

from ...ops._graph import named
from ...ops.creation import empty, zeros
from ...ops.movement import cat, stack
from .. import functional as F
from .. import init
from .._functional.rnn import recurrent_layer
from ..utils.rnn import PackedSequence, packed_steps
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# ------------------------------------------------------------------------------ cell math

def _rnn_step(mode, igates, h, c, w_hh, b_hh, w_hr):
    """One time step from precomputed input gates; returns (h', c')."""
    hgates = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = (hgates + igates).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        if w_hr is not None:
            h = h.matmul(w_hr.t())
        return h, c
    if mode == "GRU":
        ir, iz, in_ = igates.chunk(3, 1)
        hr, hz, hn = hgates.chunk(3, 1)
        r = (hr + ir).sigmoid()
        z = (hz + iz).sigmoid()
        n = (in_ + hn * r).tanh()
        return (h - n) * z + n, None
    pre = hgates + igates
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


# layers run as one fused node per direction (nn/_functional/rnn.py); False: the composed
# per-step cell everywhere (benchmarks/perf/rnn_step.py --before times both)
_FUSED = True


def _composed_packed(mode, reverse, igates, h0, c0, w_hh, b_hh):
    """The fused node's packed output recomputed with the composed cell (with graph)."""
    ig = igates.unbind(0)
    steps = range(len(ig) - 1, -1, -1) if reverse else range(len(ig))
    rows = [None] * len(ig)
    h, c = h0, c0
    for t in steps:
        h, c = _rnn_step(mode, ig[t], h, c, w_hh, b_hh, None)
        rows[t] = h
    last = c if mode == "LSTM" else h
    return stack([last] + rows + [h0] if reverse else [h0] + rows + [last], 0)


def _fusable(x, w_hr):
    return _FUSED and w_hr is None and x.shape[0] and x._device.ops.matmul is not None


def _run_direction(mode, x, h, c, params, reverse):
    """x (T, N, I) -> (outputs (T, N, H), h_T, c_T) for one layer and direction."""
    w_ih, w_hh, b_ih, b_hh, w_hr = params
    steps = x.shape[0]
    if _fusable(x, w_hr):
        packed = recurrent_layer(mode, F.linear(x, w_ih, b_ih), h, c, w_hh, b_hh, reverse,
                                 functools.partial(_composed_packed, mode, reverse))
        out = packed[1:steps + 1]
        if mode != "LSTM":
            return out, packed[1 if reverse else steps], None
        return out, packed[1 if reverse else steps], packed[0 if reverse else steps + 1]
    igates = F.linear(x, w_ih, b_ih).unbind(0)
    steps = range(len(igates) - 1, -1, -1) if reverse else range(len(igates))
    outputs = [None] * len(igates)
    for t in steps:
        h, c = _rnn_step(mode, igates[t], h, c, w_hh, b_hh, w_hr)
        outputs[t] = h
    return stack(outputs, 0), h, c


def _segments(sizes):
    """(first row, steps, batch) of each run of time steps with the same batch size."""
    out, row, t = [], 0, 0
    while t < len(sizes):
        b, steps = sizes[t], 0
        while t < len(sizes) and sizes[t] == b:
            steps, t = steps + 1, t + 1
        out.append((row, steps, b))
        row += steps * b
    return out


def _run_packed_direction(mode, data, sizes, h0, c0, params, reverse):
    """A packed layer input (sum(sizes), I) -> (packed output, h_n, c_n) for one direction.

    Within a run of steps with the same batch size b the packed rows are a plain (steps, b, I)
    block, so each run goes through the unpacked layer loop (the fused node where it
    applies) on the first b hidden states. Every sequence's final state is the one after its
    own last step, and a reverse run starts each sequence from h0 at its own last step --
    torch's packed semantics.
    """
    segments = _segments(sizes)
    outputs = [None] * len(segments)
    lstm = c0 is not None

    def run(k, h, c):
        row, steps, b = segments[k]
        x = data[row:row + steps * b].reshape(steps, b, data.shape[-1])
        out, h, c = _run_direction(mode, x, h, c, params, reverse)
        outputs[k] = out.reshape(steps * b, out.shape[-1])
        return h, c

    if not reverse:
        h, c = h0, c0
        done_h, done_c = [], []
        for k, (_, _, b) in enumerate(segments):
            h, c = run(k, h[:b], c[:b] if lstm else None)
            after = segments[k + 1][2] if k + 1 < len(segments) else 0
            if after < b:                         # rows after..b ended with this run
                done_h.append(h[after:b])
                if lstm:
                    done_c.append(c[after:b])
        h_n = cat(done_h[::-1], 0) if len(done_h) > 1 else done_h[0]
        c_n = (cat(done_c[::-1], 0) if len(done_c) > 1 else done_c[0]) if lstm else None
        return cat(outputs, 0), h_n, c_n
    h = h0[:segments[-1][2]]
    c = c0[:segments[-1][2]] if lstm else None
    for k in range(len(segments) - 1, -1, -1):
        b = segments[k][2]
        if h.shape[0] < b:                        # sequences whose last step is here start
            h = cat([h, h0[h.shape[0]:b]], 0)
            if lstm:
                c = cat([c, c0[c.shape[0]:b]], 0)
        h, c = run(k, h, c)
    return cat(outputs, 0), h, c


# -------------------------------------------------------------------------------- modules

class RNNBase(Module):
    """Parameters, checks and the layer loop shared by RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        real_hidden = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(empty(shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        # torch: every parameter U(-1/sqrt(hidden), 1/sqrt(hidden)), in registration order
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """No-op: there is no cuDNN weight buffer to compact."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = lambda base: getattr(self, f"{base}_l{layer}{suffix}", None)  # noqa: E731
        return (get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"),
                get("weight_hr"))

    def check_input(self, input, batch_sizes=None):
        dt = self._flat_weights[0].dtype
        if input.dtype is not dt:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({dt}). Convert input: input.to({dt}), or convert model: "
                             f"model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes=None):
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * directions, mini_batch, size)

    def check_hidden_size(self, hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.size())))

    def _prepare(self, input, hx, hx_dims_name="hx"):
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D tensor instead")
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        return input, batched

    def _run(self, x, h0, c0):
        """x (T, N, I) time-major -> (output (T, N, D*H), h_n, c_n)."""
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                out, h, c = _run_direction(self.mode, x, h0[k], c0[k] if c0 is not None else None,
                                           self._layer_params(layer, d), d == 1)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if directions == 1 and self.mode != "LSTM" and _fusable(x, None):
            # the fused layer's output is a view of rows its backward reads; torch's GRU/RNN
            # output is a stacked copy that may be modified in place (its LSTM's may not)
            x = named(x.clone(), "StackBackward0")
        return x, stack(h_n, 0), (stack(c_n, 0) if c0 is not None else None)

    def _run_packed(self, data, sizes, h0, c0):
        """The layer stack over packed data (sum(sizes), I) -> (data, h_n, c_n)."""
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        x = data
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                out, h, c = _run_packed_direction(
                    self.mode, x, sizes, h0[k], c0[k] if c0 is not None else None,
                    self._layer_params(layer, d), d == 1)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, stack(h_n, 0), (stack(c_n, 0) if c0 is not None else None)

    def _forward_packed(self, packed, hx):
        """torch's packed path: hidden states in sorted order inside, original order out."""
        data, sizes = packed.data, [int(b) for b in packed.batch_sizes.tolist()]
        self.check_input(data, sizes)
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        batch = sizes[0]
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = zeros(self.num_layers * directions, batch, real_hidden, dtype=data.dtype,
                       device=data.device)
            c0 = zeros(self.num_layers * directions, batch, self.hidden_size, dtype=data.dtype,
                       device=data.device) if lstm else None
        else:
            h0, c0 = hx if lstm else (hx, None)
            if packed.sorted_indices is not None:
                h0 = h0.index_select(1, packed.sorted_indices)
                c0 = c0.index_select(1, packed.sorted_indices) if c0 is not None else None
        expected = (self.num_layers * directions, batch, real_hidden)
        if lstm:
            self.check_hidden_size(h0, expected, "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(c0, expected[:2] + (self.hidden_size,),
                                   "Expected hidden[1] size {}, got {}")
        else:
            self.check_hidden_size(h0, expected)
        out, h_n, c_n = self._run_packed(data, sizes, h0.unbind(0),
                                         c0.unbind(0) if c0 is not None else None)
        if packed.unsorted_indices is not None:
            h_n = h_n.index_select(1, packed.unsorted_indices)
            c_n = c_n.index_select(1, packed.unsorted_indices) if c_n is not None else None
        output = PackedSequence(out, packed.batch_sizes, packed.sorted_indices,
                                packed.unsorted_indices)
        return output, ((h_n, c_n) if lstm else h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _zeros_hidden(module, input, size):
    directions = 2 if module.bidirectional else 1
    batch = input.size(0) if module.batch_first else input.size(1)
    return zeros(module.num_layers * directions, batch, size, dtype=input.dtype,
                 device=input.device)


class _SimpleRecurrent(RNNBase):
    """RNN and GRU: one hidden state."""

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        input, batched = self._prepare(input, hx)
        if hx is not None:
            if batched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.dim()}-D tensor")
            if not batched:
                if hx.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                       f"{hx.dim()}-D tensor")
                hx = hx.unsqueeze(1)
        else:
            hx = _zeros_hidden(self, input, self.hidden_size)
        self.check_input(input)
        self.check_hidden_size(hx, self.get_expected_hidden_size(input))
        x = input.transpose(0, 1) if self.batch_first else input
        out, h_n, _ = self._run(x, hx.unbind(0), None)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            h_n = h_n.squeeze(1)
        return out, h_n


class RNN(_SimpleRecurrent):
    r"""Elman RNN: :math:`h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})`.

    Args:
        input_size, hidden_size. num_layers=1. nonlinearity='tanh' ('relu'). bias=True.
        batch_first=False. dropout=0 (between layers). bidirectional=False.

    Returns (output, h_n): output (L, N, D*H) (batch first: (N, L, D*H)), h_n (D*layers, N, H).

    Attributes: weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (and _reverse),
        all from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, *args, **kwargs)


class GRU(_SimpleRecurrent):
    """Gated recurrent unit (torch's gate order r, z, n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory (gate order i, f, g, o); ``proj_size`` projects h."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        input, batched = self._prepare(input, hx)
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            h0 = _zeros_hidden(self, input, real_hidden)
            c0 = _zeros_hidden(self, input, self.hidden_size)
        else:
            h0, c0 = hx
            if batched and (h0.dim() != 3 or c0.dim() != 3):
                raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but got "
                                   f"({h0.dim()}-D, {c0.dim()}-D) tensors")
            if not batched:
                if h0.dim() != 2 or c0.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D "
                                       f"but got ({h0.dim()}-D, {c0.dim()}-D) tensors")
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        self.check_input(input)
        expected = self.get_expected_hidden_size(input)
        self.check_hidden_size(h0, expected, "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(c0, expected[:2] + (self.hidden_size,),
                               "Expected hidden[1] size {}, got {}")
        x = input.transpose(0, 1) if self.batch_first else input
        out, h_n, c_n = self._run(x, h0.unbind(0), c0.unbind(0))
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return out, (h_n, c_n)


# ---------------------------------------------------------------------------------- cells

class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device,
                                         dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device,
                                         dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode, input, h, c=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if h is None:
            h = zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            c = h if mode == "LSTM" else None
        elif not batched:
            h = h.unsqueeze(0)
            c = c.unsqueeze(0) if c is not None else None
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected "
                               f"{self.input_size}")
        igates = F.linear(input, self.weight_ih, self.bias_ih)
        h, c = _rnn_step(mode, igates, h, c, self.weight_hh, self.bias_hh, None)
        if not batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if c is not None else None
        return h, c


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, hx)[0]


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return self._step("LSTM", input, h, c)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", input, hx)[0]
