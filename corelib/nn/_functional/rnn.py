"""A recurrent layer's time loop (LSTM, GRU, tanh/relu RNN) as one autograd node.

The composed cell (``nn/modules/rnn.py``) records about fifteen graph nodes per time step, and
at the sizes RNNs train at the frontend's per-op cost, not the arithmetic, sets the speed
(2-layer LSTM, 20 steps, batch 16, hidden 64: 18.7 ms forward + backward against torch's
2.0 ms). Here the loop runs on backend buffers, about ten backend calls per step; the
backward is the reverse loop with every gate derivative that does not depend on the incoming
gradient computed for all steps at once, and the recurrent weight's gradient is one GEMM over
all steps. The forward arithmetic is torch's CPU cell (aten/src/ATen/native/RNN.cpp) in
torch's order, so outputs equal the composed cell's bit for bit.

The node's one output packs the layer, T+2 rows of (N, H): rows 1..T are the hidden states;
a forward run keeps h0 in row 0 and the last cell state (LSTM; else the last hidden state) in
row T+1, a reverse run the other way round, so the state a step reads is always the row
beside the one it writes. Callers slice it. Every buffer is (rows, N, gates, H), so a gate
slot of one step is a plain slice.

Under ``create_graph`` the backward recomputes the composed cell with graph and
differentiates that, so gradients of gradients stay exact (see ``_Cut``).
"""
from __future__ import annotations

from ..._tensor import _from_buffer
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.node import Node
from ...ops._graph import attach, edge, needs_grad

GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _rows(ops, buf, shape, gates=None, start=0, stop=None):
    """One (1, N, k, H) view per row of the (rows, N, G, H) buffer ``buf``, of gate slots
    ``gates=(g0, g1)`` (all by default)."""
    n, g, h = shape[1:]
    mid = ((0, n, 1), (0, g, 1) if gates is None else (gates[0], gates[1], 1), (0, h, 1))
    return [ops.slice(buf, ((t, t + 1, 1),) + mid)
            for t in range(start, shape[0] if stop is None else stop)]


def _flat_rows(ops, buf, shape):
    """One (1, N, G*H) view per row of the (rows, N, G, H) buffer ``buf``: the layout the
    lstm_cell kernels take (gates on the last axis)."""
    rows, n, g, h = shape
    flat = ops.reshape(buf, (rows, n, g * h))
    return [ops.slice(flat, ((t, t + 1, 1), (0, n, 1), (0, g * h, 1))) for t in range(rows)]


def _gate(ops, buf, shape, g0, g1=None):
    """buf[:, :, g0:g1] (one slot by default) of a (rows, N, G, H) buffer."""
    rows, n, _, h = shape
    return ops.slice(buf, ((0, rows, 1), (0, n, 1), (g0, g0 + 1 if g1 is None else g1, 1),
                           (0, h, 1)))


class _Layer:
    """The raw loop of one layer and direction; forward keeps what backward reads."""

    def __init__(self, ops, dtype, mode, t, n, h, reverse):
        self.ops, self.dtype, self.mode, self.reverse = ops, dtype, mode, reverse
        self.t, self.n, self.h, self.g = t, n, h, GATES[mode]
        self.kind = "lstm" if mode == "LSTM" else "gru" if mode == "GRU" else "rnn"

    def steps(self):
        return range(self.t - 1, -1, -1) if self.reverse else range(self.t)

    # -------------------------------------------------------------------------- forward
    def forward(self, ig, h0, c0, w_hh, b_hh):
        ops, (T, N, H, G) = self.ops, (self.t, self.n, self.h, self.g)
        self.shape = (T, N, G, H)
        self.wt = ops.permute(w_hh, (1, 0))     # (H, G*H), the view F.linear multiplies by
        self.w = w_hh
        self.b = ops.reshape(b_hh, (G, H)) if b_hh is not None else None
        self.packed = ops.empty((T + 2, N, 1, H), self.dtype)
        self.prow = _rows(ops, self.packed, (T + 2, N, 1, H))
        ops.assign(self.prow[T + 1 if self.reverse else 0], ops.reshape(h0, (1, N, 1, H)))
        self.act = ops.empty(self.shape, self.dtype)
        ig = ops.reshape(ig, self.shape)
        getattr(self, "_forward_" + self.kind)(ig, c0)
        if self.kind != "lstm":                      # the spare row: the last hidden state
            last = (0, 1) if self.reverse else (T + 1, T)
            ops.assign(self.prow[last[0]], self.prow[last[1]])
        return ops.reshape(self.packed, (T + 2, N, H))

    def _hidden_gates(self, hprev):
        """h W_hh^T + b_hh as (1, N, G, H): torch's linear_hh."""
        ops = self.ops
        pre = ops.matmul(ops.reshape(hprev, (self.n, self.h)), self.wt)    # one GEMM
        pre = ops.reshape(pre, (1, self.n, self.g, self.h))
        return ops.add(pre, self.b, out=pre) if self.b is not None else pre

    def _prev(self, t):
        return self.prow[t + 2 if self.reverse else t]

    def _forward_lstm(self, ig, c0):
        ops, (T, N, H), shape = self.ops, (self.t, self.n, self.h), self.shape
        self.cells = ops.empty((T + 1, N, 1, H), self.dtype)
        crow = _rows(ops, self.cells, (T + 1, N, 1, H))
        ops.assign(crow[T if self.reverse else 0], ops.reshape(c0, (1, N, 1, H)))
        self.tanh_c = None
        if ops.lstm_cell is not None:
            return self._forward_lstm_kernel(ig, crow)
        self.tanh_c = ops.empty((T, N, 1, H), self.dtype)
        tc = _rows(ops, self.tanh_c, (T, N, 1, H))
        igr, act = _rows(ops, ig, shape), _rows(ops, self.act, shape)
        i, f, g, o = (_rows(ops, self.act, shape, (k, k + 1)) for k in range(4))
        self.f = f
        tmp = ops.empty((1, N, 1, H), self.dtype)
        rev = 1 if self.reverse else 0
        cell_gate = ((0, 1, 1), (0, N, 1), (2, 3, 1), (0, H, 1))
        prow = self.prow
        for t in self.steps():
            pre = self._hidden_gates(self._prev(t))
            ops.add(pre, igr[t], out=pre)                    # linear_hh(h) + igates
            ops.sigmoid(pre, out=act[t])                     # i, f, o (g is overwritten)
            ops.tanh(ops.slice(pre, cell_gate), out=g[t])
            c_new = crow[t + 1 - rev]
            ops.mul(f[t], crow[t + rev], out=tmp)            # c' = f * c + i * g
            ops.mul(i[t], g[t], out=c_new)
            ops.add(tmp, c_new, out=c_new)
            ops.tanh(c_new, out=tc[t])
            ops.mul(o[t], tc[t], out=prow[t + 1])            # h' = o * tanh(c')
        ops.assign(prow[0 if rev else T + 1], crow[0 if rev else T])

    def _forward_lstm_kernel(self, ig, crow):
        """The backend's lstm_cell a step: a GEMM, the bias, one cell call."""
        ops, (T, N, H), shape = self.ops, (self.t, self.n, self.h), self.shape
        rev = 1 if self.reverse else 0
        igr, act = _flat_rows(ops, ig, shape), _flat_rows(ops, self.act, shape)
        self.flat_act = act
        b = ops.reshape(self.b, (4 * H,)) if self.b is not None else None
        prow, cell = self.prow, ops.lstm_cell
        for t in self.steps():
            pre = ops.matmul(ops.reshape(self._prev(t), (N, H)), self.wt)
            if b is not None:
                ops.add(pre, b, out=pre)
            cell(igr[t], pre, crow[t + rev], prow[t + 1], crow[t + 1 - rev], act[t])
        ops.assign(prow[0 if rev else T + 1], crow[0 if rev else T])

    def _forward_gru(self, ig, c0):
        ops, (N, H), shape = self.ops, (self.n, self.h), self.shape
        ig_rz, ig_n = _rows(ops, ig, shape, (0, 2)), _rows(ops, ig, shape, (2, 3))
        rz, n = _rows(ops, self.act, shape, (0, 2)), _rows(ops, self.act, shape, (2, 3))
        r, z = _rows(ops, self.act, shape, (0, 1)), _rows(ops, self.act, shape, (1, 2))
        self.hn = [None] * self.t
        slot_rz = ((0, 1, 1), (0, N, 1), (0, 2, 1), (0, H, 1))
        slot_n = ((0, 1, 1), (0, N, 1), (2, 3, 1), (0, H, 1))
        for t in self.steps():
            hprev, new = self._prev(t), self.prow[t + 1]
            hg = self._hidden_gates(hprev)
            pre = ops.add(ops.slice(hg, slot_rz), ig_rz[t])  # r, z = sigmoid(h_rz + i_rz)
            ops.sigmoid(pre, out=rz[t])
            hn = self.hn[t] = ops.slice(hg, slot_n)
            pre = ops.mul(hn, r[t])                          # n = tanh(i_n + h_n * r)
            ops.add(ig_n[t], pre, out=pre)
            ops.tanh(pre, out=n[t])
            ops.sub(hprev, n[t], out=new)                    # h' = (h - n) * z + n
            ops.mul(new, z[t], out=new)
            ops.add(new, n[t], out=new)

    def _forward_rnn(self, ig, c0):
        ops = self.ops
        igr = _rows(ops, ig, self.shape)
        for t in self.steps():
            pre = self._hidden_gates(self._prev(t))
            ops.add(pre, igr[t], out=pre)
            if self.mode == "RNN_TANH":
                ops.tanh(pre, out=self.prow[t + 1])
            else:
                ops.maximum(pre, 0.0, out=self.prow[t + 1])

    # ------------------------------------------------------------------------- backward
    def backward(self, dpacked):
        """Gradients of (igates, h0, c0, w_hh, b_hh) from the packed output's gradient."""
        ops, (T, N, H, G) = self.ops, (self.t, self.n, self.h, self.g)
        dprow = _rows(ops, ops.reshape(dpacked, (T + 2, N, 1, H)), (T + 2, N, 1, H))
        d_in, d_hid, dh, dc = getattr(self, "_backward_" + self.kind)(dprow)
        rev = 2 if self.reverse else 0
        hprev = ops.reshape(ops.slice(self.packed, ((rev, T + rev, 1), (0, N, 1), (0, 1, 1),
                                                    (0, H, 1))), (T * N, H))
        flat = ops.reshape(d_hid, (T * N, G * H))
        dw = ops.matmul(ops.permute(flat, (1, 0)), hprev)
        db = ops.sum(flat, (0,), False) if self.b is not None else None
        dc = ops.reshape(dc, (N, H)) if dc is not None else None
        return ops.reshape(d_in, (T, N, G * H)), ops.reshape(dh, (N, H)), dc, dw, db

    def _recur(self, dprow, dh_next, t):
        """dh of step t: its output's gradient plus what the next step sends back."""
        return dprow[t + 1] if dh_next is None else self.ops.add(dprow[t + 1], dh_next)

    def _to_prev(self, dgates_t):
        """dgates (1, N, G, H) @ W_hh -> the gradient reaching the previous hidden state."""
        ops, n, h = self.ops, self.n, self.h
        flat = ops.reshape(dgates_t, (n, self.g * h))
        return ops.reshape(ops.matmul(flat, self.w), (1, n, 1, h))

    def _backward_lstm(self, dprow):
        ops, (T, N, H), shape = self.ops, (self.t, self.n, self.h), self.shape
        if ops.lstm_cell_backward is not None and self.tanh_c is None:
            return self._backward_lstm_kernel(dprow)
        if self.tanh_c is None:                              # forward ran the lstm_cell kernel
            rows = (1, T + 1) if not self.reverse else (0, T)
            self.tanh_c = ops.tanh(ops.slice(self.cells, ((rows[0], rows[1], 1), (0, N, 1),
                                                         (0, 1, 1), (0, H, 1))))
            self.f = _rows(ops, self.act, shape, (1, 2))
        a = self.act
        d = ops.mul(a, ops.sub(1.0, a))                      # sigmoid' = a (1 - a)
        a_g, d_g = _gate(ops, a, shape, 2), _gate(ops, d, shape, 2)
        ops.mul(a_g, a_g, out=d_g)                           # tanh' = 1 - g^2
        ops.sub(1.0, d_g, out=d_g)
        tc = self.tanh_c
        dtc = ops.mul(tc, tc)
        ops.sub(1.0, dtc, out=dtc)
        rev = 1 if self.reverse else 0
        cprev = ops.slice(self.cells, ((rev, T + rev, 1), (0, N, 1), (0, 1, 1), (0, H, 1)))
        one = (T, N, 1, H)
        to_o = _rows(ops, ops.mul(tc, _gate(ops, d, shape, 3)), one)      # dh -> d o_pre
        to_c = _rows(ops, ops.mul(_gate(ops, a, shape, 3), dtc), one)     # dh -> dc
        m = ops.empty((T, N, 3, H), self.dtype)                          # dc -> d ifg_pre
        m_shape = (T, N, 3, H)
        ops.mul(a_g, _gate(ops, d, shape, 0), out=_gate(ops, m, m_shape, 0))
        ops.mul(cprev, _gate(ops, d, shape, 1), out=_gate(ops, m, m_shape, 1))
        ops.mul(_gate(ops, a, shape, 0), d_g, out=_gate(ops, m, m_shape, 2))
        m = _rows(ops, m, m_shape)
        dg = ops.empty(shape, self.dtype)
        dg_rows, dg_o = _rows(ops, dg, shape), _rows(ops, dg, shape, (3, 4))
        dg_ifg = _rows(ops, dg, shape, (0, 3))
        f = self.f
        dc = dprow[0 if self.reverse else T + 1]
        dh = None
        for t in reversed(self.steps()):
            dh = self._recur(dprow, dh, t)
            ops.mul(dh, to_o[t], out=dg_o[t])
            dcell = ops.mul(dh, to_c[t])
            ops.add(dcell, dc, out=dcell)
            ops.mul(dcell, m[t], out=dg_ifg[t])
            dc = ops.mul(dcell, f[t])
            dh = self._to_prev(dg_rows[t])
        return dg, dg, dh, dc

    def _backward_lstm_kernel(self, dprow):
        """The backend's lstm_cell_backward a step, then the GEMM to the previous state."""
        ops, (T, N, H), shape = self.ops, (self.t, self.n, self.h), self.shape
        rev = 1 if self.reverse else 0
        crow = _rows(ops, self.cells, (T + 1, N, 1, H))
        dg = ops.empty(shape, self.dtype)
        dg_rows, cell = _flat_rows(ops, dg, shape), ops.lstm_cell_backward
        act = self.flat_act
        dc = dprow[0 if self.reverse else T + 1]
        dh = None
        for t in reversed(self.steps()):
            dh = self._recur(dprow, dh, t)
            dc = cell(dh, dc, crow[t + rev], crow[t + 1 - rev], act[t], dg_rows[t])
            dh = self._to_prev(dg_rows[t])
        return dg, dg, dh, dc

    def _backward_gru(self, dprow):
        ops, (T, N, H), shape = self.ops, (self.t, self.n, self.h), self.shape
        a, one = self.act, (T, N, 1, H)
        a_rz, a_n, a_z = _gate(ops, a, shape, 0, 2), _gate(ops, a, shape, 2), \
            _gate(ops, a, shape, 1)
        d_rz = ops.mul(a_rz, ops.sub(1.0, a_rz))             # sigmoid'
        d_n = ops.mul(a_n, a_n)
        ops.sub(1.0, d_n, out=d_n)                           # tanh'
        rev = 2 if self.reverse else 0
        hprev = ops.slice(self.packed, ((rev, T + rev, 1), (0, N, 1), (0, 1, 1), (0, H, 1)))
        rz_shape = (T, N, 2, H)
        to_z = ops.sub(hprev, a_n)
        to_z = _rows(ops, ops.mul(to_z, _gate(ops, d_rz, rz_shape, 1), out=to_z), one)
        to_n = ops.sub(1.0, a_z)
        to_n = _rows(ops, ops.mul(to_n, d_n, out=to_n), one)
        d_r = _rows(ops, _gate(ops, d_rz, rz_shape, 0), one)
        r, z = _rows(ops, a, shape, (0, 1)), _rows(ops, a, shape, (1, 2))
        d_hid, d_in = ops.empty(shape, self.dtype), ops.empty(shape, self.dtype)
        dh_rows = _rows(ops, d_hid, shape)
        dh_r, dh_z, dh_n = (_rows(ops, d_hid, shape, (k, k + 1)) for k in range(3))
        di_n = _rows(ops, d_in, shape, (2, 3))
        hn = self.hn
        dh = None
        for t in reversed(self.steps()):
            dh = self._recur(dprow, dh, t)
            ops.mul(dh, to_z[t], out=dh_z[t])                # dz_pre = dh (h - n) z'
            ops.mul(dh, to_n[t], out=di_n[t])                # dn_pre = dh (1 - z) n'
            ops.mul(di_n[t], hn[t], out=dh_r[t])             # dr_pre = dn_pre h_n r'
            ops.mul(dh_r[t], d_r[t], out=dh_r[t])
            ops.mul(di_n[t], r[t], out=dh_n[t])              # d h_n = dn_pre r
            direct = ops.mul(dh, z[t])                       # h' = z h + (1 - z) n
            dh = self._to_prev(dh_rows[t])
            ops.add(dh, direct, out=dh)
        ops.assign(_gate(ops, d_in, shape, 0, 2), _gate(ops, d_hid, shape, 0, 2))
        return d_in, d_hid, dh, None

    def _backward_rnn(self, dprow):
        ops, (T, N, H), shape = self.ops, (self.t, self.n, self.h), self.shape
        hs = ops.slice(self.packed, ((1, T + 1, 1), (0, N, 1), (0, 1, 1), (0, H, 1)))
        if self.mode == "RNN_TANH":
            local = ops.mul(hs, hs)
            local = _rows(ops, ops.sub(1.0, local, out=local), shape)
        else:
            local = _rows(ops, ops.gt(hs, 0.0), shape)       # torch's threshold_backward
        dg = ops.empty(shape, self.dtype)
        dg_rows = _rows(ops, dg, shape)
        dh = None
        for t in reversed(self.steps()):
            dh = self._recur(dprow, dh, t)
            if self.mode == "RNN_TANH":
                ops.mul(dh, local[t], out=dg_rows[t])
            else:
                ops.where(local[t], dh, 0.0, out=dg_rows[t])
            dh = self._to_prev(dg_rows[t])
        return dg, dg, dh, None


# ------------------------------------------------------------------------------ autograd

class _Cut(Node):
    """Identity onto an input of the recurrent node, closed while that node's create_graph
    backward differentiates its recomputation (the inner pass must stop at the layer's own
    inputs, not run on through the rest of the graph), open afterwards so that gradients of
    those gradients reach the inputs."""
    __slots__ = ("open",)

    def backward(self, g):
        return (g if self.open else None,)


class RecurrentBackward(Node):
    """The whole layer: gradients of (igates, h0, c0, w_hh, b_hh)."""
    __slots__ = ("layer", "inputs", "composed")

    def _drop(self):
        self.layer = self.inputs = None

    def name(self):
        return "StackBackward0"

    def backward(self, g):
        if is_grad_enabled():
            return self._differentiable(g)
        layer = self.layer
        grads = layer.backward(g._data)
        out = []
        for e, t, buf in zip(self.next, self.inputs, grads):
            out.append(None if e is None or buf is None else
                       _from_buffer(buf, t._shape, t._dtype, t._device))
        return tuple(out)

    def _differentiable(self, g):
        from ...autograd import grad as autograd_grad
        cuts, args = [], []
        for e, t in zip(self.next, self.inputs):
            if e is None:
                args.append(t)
                continue
            alias = _from_buffer(t._data, t._shape, t._dtype, t._device)
            node = _Cut((e,))
            node.open = False
            cuts.append(node)
            args.append(attach(alias, node))
        packed = self.composed(*args)
        wanted = [a for a, e in zip(args, self.next) if e is not None]
        found = iter(autograd_grad(packed, wanted, g, create_graph=True, allow_unused=True))
        for node in cuts:
            node.open = True
        return tuple(None if e is None else next(found) for e in self.next)


def recurrent_layer(mode, igates, h0, c0, w_hh, b_hh, reverse, composed):
    """One layer and direction: igates (T, N, G*H) = x W_ih^T + b_ih for every step, h0/c0
    (N, H) -> the packed (T+2, N, H) tensor (module docstring). ``composed(igates, h0, c0,
    w_hh, b_hh)`` recomputes it with graph (create_graph backward)."""
    dev, dt = igates._device, igates._dtype
    T, N = igates._shape[:2]
    H = h0._shape[-1]
    layer = _Layer(dev.ops, dt.name, mode, T, N, H, reverse)
    data = layer.forward(igates._data, h0._data, c0._data if c0 is not None else None,
                         w_hh._data, b_hh._data if b_hh is not None else None)
    out = _from_buffer(data, (T + 2, N, H), dt, dev)
    inputs = (igates, h0, c0, w_hh, b_hh)
    if needs_grad(*inputs):
        alias = out.detach()          # a saved output: modifying it in place is an error
        saved = tuple(t for t in (h0, c0, w_hh) if t is not None) + (alias,)
        node = RecurrentBackward(tuple(edge(t) for t in inputs), saved)
        node.layer, node.inputs, node.composed = layer, inputs, composed
        attach(out, node)
    return out
