"""Conformance cases for the runtime functions and the optional fused kernels."""
from __future__ import annotations

import numpy as np

from .cases import Case
from .inputs import ALL, FLOATS, SUM_TOL, V, data, permuted, stepped

GEMM_TOL = {"float16": (2e-2, 2e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-4), "float64": (1e-10, 1e-10),
            "int64": (0, 0)}


def _meta(buf, table):
    host = table.to_host(buf)
    return [tuple(host.shape), host.dtype.name]


def runtime_cases():
    for dt in ALL:
        x = data((3, 4), dt, 30)
        yield Case("from_host", dt, "contiguous", run=lambda t, x=x: [t.to_host(t.from_host(x))])
        yield Case("from_host", dt, "host-strided", run=lambda t, x=x: [
            t.to_host(t.from_host(x[:, ::2].T))])
        yield Case("to_host", dt, "view", run=lambda t, x=x: [
            t.to_host(permuted(x).make(t)), t.to_host(stepped(x).make(t))])
        fill = True if dt == "bool" else 1
        yield Case("full", dt, "2-d", run=lambda t, dt=dt, f=fill: [
            t.to_host(t.full((2, 3), f, dt))])
        yield Case("full", dt, "0-d", run=lambda t, dt=dt: [t.to_host(t.full((), 0, dt))])
        yield Case("empty", dt, "shape-dtype", run=lambda t, dt=dt: [
            _meta(t.empty((2, 3), dt), t), _meta(t.empty((0, 3), dt), t)])
        if dt != "bool":
            yield Case("arange", dt, "start-step", run=lambda t, dt=dt: [
                t.to_host(t.arange(2, 3, 7, dt))])
        yield Case("copy", dt, "of-view", run=lambda t, x=x: [
            t.to_host(c := t.copy(permuted(x).make(t))), t.strides(c)])
        for dst in ALL:
            src = data((5, 7), dt, 31, low=0 if dst == "uint8" else -3, high=12)
            if dt in FLOATS:
                src = (np.abs(src) if dst == "uint8" else src * 1.37).astype(dt)
            yield Case("cast", dt, f"to-{dst}", (permuted(src), dst))
        if dt in FLOATS:
            for dst in ALL:
                yield Case("cast", dt, f"to-{dst}-out-of-range", (dst,),   # args: the target
                           run=lambda t, dt=dt, dst=dst: _cast_out_of_range(t, dt, dst))
        yield Case("assign", dt, "scalar-into-strided", run=lambda t, x=x, f=fill: [
            _assign(t, x, f)])
        yield Case("assign", dt, "broadcast-and-overlap", run=lambda t, x=x: [
            _assign_overlap(t, x)])
        yield Case("strides", dt, "views", run=lambda t, x=x: [
            t.strides(t.from_host(x)), t.strides(permuted(x).make(t)),
            t.strides(stepped(x).make(t)), t.strides(t.expand(t.from_host(x[:1]), (3, 4)))])
    yield Case("synchronize", "-", "returns", run=lambda t: [t.synchronize() is None])
    yield Case("device_count", "-", "positive", run=lambda t: [t.device_count() >= 1])


_UNRULY = (np.nan, np.inf, -np.inf, 1e10, -1e10, 300.5, -129.7, 65504.0, 2.9, -2.9, -0.9,
           0.0, 127.9, 255.5)


def _cast_out_of_range(t, src_dtype, dst):
    """nan, inf and out-of-range floats cast to ints: unspecified values there (the contract,
    as torch), but the call works and the other elements are exact (shape, dtype, values)."""
    with np.errstate(over="ignore"):
        src = np.array(_UNRULY, np.float64).astype(src_dtype)
    host = t.to_host(t.cast(t.from_host(src), dst))
    if dst in FLOATS or dst == "bool":
        return [host]
    info = np.iinfo(dst)
    with np.errstate(invalid="ignore"):
        truncated = np.trunc(src.astype(np.float64))
        defined = np.isfinite(truncated) & (truncated >= info.min) & (truncated <= info.max)
    return [list(host.shape), host.dtype.name, host[defined]]


def _assign(t, x, fill):
    base = t.from_host(x)
    t.assign(t.slice(base, [(0, 3, 2), (1, 4, 2)]), fill)
    return t.to_host(base)


def _assign_overlap(t, x):
    base = t.from_host(x)
    t.assign(t.slice(base, [(0, 1, 1), (0, 4, 1)]), t.from_host(x[2:3]))      # a row
    t.assign(t.slice(base, [(1, 3, 1), (0, 4, 1)]), t.from_host(x[2]))         # broadcast
    t.assign(t.slice(base, [(1, 3, 1), (0, 4, 1)]), t.slice(base, [(0, 2, 1), (0, 4, 1)]))
    return t.to_host(base)


CONVS = [  # N, C, H, W, Cout, kh, kw, stride, padding, dilation, groups
    (2, 3, 8, 9, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    (2, 4, 9, 7, 6, 3, 2, (2, 1), (0, 1), (1, 2), 2),
    (1, 6, 5, 5, 6, 1, 1, (1, 1), (0, 0), (1, 1), 3),
]


def kernel_cases():
    for dt in FLOATS + ("int64",):
        lo, hi = (-3, 3) if dt != "int64" else (-0.3, 0.3)
        tol = GEMM_TOL[dt]
        for sa, sb in [((5, 7), (7, 3)), ((2, 3, 6, 4), (4, 5)), ((4, 1, 3, 8), (3, 8, 2))]:
            yield Case("matmul", dt, f"{list(sa)}@{list(sb)}",
                       (data(sa, dt, 40, lo, hi), data(sb, dt, 41, lo, hi)), tol=tol)
        yield Case("matmul", dt, "transposed", (permuted(data((6, 5), dt, 42, lo, hi)),
                                                permuted(data((5, 4), dt, 43, lo, hi))), tol=tol)
        yield Case("matmul", dt, "k=0", (data((3, 0), dt), data((0, 4), dt)))
    for dt in ("float32", "float64"):
        tol = GEMM_TOL[dt]
        for i, (n, c, h, w, co, kh, kw, stride, pad, dil, groups) in enumerate(CONVS):
            x = data((n, c, h, w), dt, 44 + i)
            wt = data((co, c // groups, kh, kw), dt, 50 + i)
            ho = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
            wo = (w + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
            g = data((n, co, ho, wo), dt, 60 + i)
            hyper = (stride, pad, dil, groups)
            yield Case("conv2d", dt, f"case{i}", (x, wt) + hyper, tol=tol)
            yield Case("conv2d_input_grad", dt, f"case{i}", (g, wt, x.shape) + hyper, tol=tol)
            yield Case("conv2d_weight_grad", dt, f"case{i}", (x, g, wt.shape) + hyper, tol=tol)
        nhwc = V(np.ascontiguousarray(data((2, 3, 8, 9), dt, 70).transpose(0, 2, 3, 1)),
                 ("permute", (0, 3, 1, 2)))
        yield Case("conv2d", dt, "nhwc-view", (nhwc, data((4, 3, 3, 3), dt, 71), (1, 1),
                                              (1, 1), (1, 1), 1), tol=tol)
    for dt in FLOATS:
        tol = GEMM_TOL[dt]
        for act in ("none", "relu", "gelu"):
            yield Case("addmm_act", dt, act, (data((5,), dt, 72), data((4, 6), dt, 73),
                                              data((6, 5), dt, 74), act), tol=tol)
        yield Case("addmm_act", dt, "bias-2d-transposed", (
            data((4, 1), dt, 75), permuted(data((4, 6), dt, 76)), data((6, 5), dt, 77),
            "relu"), tol=tol)
        x = data((4, 5, 6), dt, 80, low=-5, high=5)
        x[0, 0, :] = -np.inf
        x[1, 1, 2] = np.inf
        for op in ("softmax", "log_softmax"):
            for axis in range(3):
                yield Case(op, dt, f"axis{axis}", (x, axis), tol=SUM_TOL[dt])
            yield Case(op, dt, "permuted", (permuted(x), 1), tol=SUM_TOL[dt])
        if dt not in ("float16", "bfloat16"):                    # the frontend runs half gelu in float32
            xg = data((4, 9), dt, 83, low=-6, high=6)
            xg[0, :4] = (0.0, -0.0, 12.0, -12.0)
            yield Case("gelu", dt, "range", (xg,))
            yield Case("gelu", dt, "0-d", (data((), dt, 84),))
            yield Case("gelu_backward", dt, "range",
                       run=lambda t, x=xg, dt=dt: _gelu_backward(t, x, dt))
        if dt not in ("float16", "bfloat16"):                    # the frontend composes half layer norm
            xl, wl, bl = data((3, 4, 8), dt, 86, low=-3, high=5), data((8,), dt, 87), \
                data((8,), dt, 88)
            yield Case("layer_norm", dt, "affine", (xl, wl, bl, 8, 1e-5), tol=SUM_TOL[dt])
            yield Case("layer_norm", dt, "plain-2-dims", (permuted(xl), None, None, 32, 1e-5),
                       tol=SUM_TOL[dt])
            yield Case("layer_norm_backward", dt, "affine", tol=SUM_TOL[dt],
                       run=lambda t, x=xl, w=wl, dt=dt: _layer_norm_backward(t, x, w, dt))
        if dt not in ("float16", "bfloat16"):
            xb, wb, bb = data((4, 3, 5, 2), dt, 90, low=-3, high=5), data((3,), dt, 91), \
                data((3,), dt, 92)
            yield Case("batch_norm", dt, "affine", (xb, wb, bb, 1e-5), tol=SUM_TOL[dt])
            yield Case("batch_norm", dt, "plain-2d", (data((6, 4), dt, 93), None, None, 1e-5),
                       tol=SUM_TOL[dt])
            yield Case("batch_norm_backward", dt, "affine", tol=SUM_TOL[dt],
                       run=lambda t, x=xb, w=wb, dt=dt: _batch_norm_backward(t, x, w, dt))
        if dt != "float16":
            for part in ("lstm_cell", "lstm_cell_backward"):
                yield Case(part, dt, "row-views", tol=SUM_TOL[dt],
                           run=lambda t, dt=dt, part=part: _lstm_cell(t, dt, part))
        logits = data((6, 5), dt, 81, low=-4, high=4)
        target = np.array([0, 4, 2, -100, 1, 4])
        yield Case("cross_entropy", dt, "ignore_index", (logits, target, -100),
                   tol=SUM_TOL[dt])
        yield Case("cross_entropy_backward", dt, "ignore_index",
                   run=lambda t, lg=logits, tg=target, dt=dt: _ce_backward(t, lg, tg, dt))
        yield Case("sgd_step", dt, "momentum-nesterov", run=lambda t, dt=dt: _sgd(t, dt))
        yield Case("adam_step", dt, "adamw-amsgrad", run=lambda t, dt=dt: _adam(t, dt))
    for transform, dt, params in _RANDOM:
        # random numbers are torch's stream: bit-exact, values and the advanced state
        yield Case("mt19937_generate", dt, f"{transform}{list(params)}"[:40], tol=(0, 0),
                   run=lambda t, tr=transform, dt=dt, p=params: _mt19937(t, tr, dt, p))


def _ce_backward(t, logits, target, dt):
    x, tg = t.from_host(logits), t.from_host(target)
    ce = getattr(t, "cross_entropy", None)
    if ce is None:  # the kernel pair is independent: reference lse from the cpu formula
        m = logits.astype("float64").max(1, keepdims=True)
        lse = t.from_host((np.log(np.exp(logits - m).sum(1)) + m[:, 0]).astype(dt))
    else:
        lse = ce(x, tg, -100)[1]
    g = t.from_host(data((6,), dt, 82, low=0.1, high=1))
    return [t.to_host(t.cross_entropy_backward(g, x, tg, lse, -100))]


def _gelu_backward(t, x, dt):
    gelu = getattr(t, "gelu", None)
    xb = t.from_host(x)
    if gelu is None:  # the pair is independent: cdf from float64 erf
        import math
        cdf = t.from_host(np.array([[(1 + math.erf(v / math.sqrt(2))) * 0.5 for v in row]
                                    for row in x.astype("float64")]).astype(dt))
    else:
        cdf = gelu(xb)[1]
    g = t.from_host(data(x.shape, dt, 85))
    return [t.to_host(t.gelu_backward(g, xb, cdf))]


def _layer_norm_backward(t, x, w, dt):
    rows = x.reshape(-1, x.shape[-1]).astype("float64")     # reference statistics
    mean = rows.mean(1)
    rstd = 1 / np.sqrt(rows.var(1) + 1e-5)
    g = t.from_host(data(x.shape, dt, 89))
    return [t.to_host(b) for b in t.layer_norm_backward(
        g, t.from_host(x), t.from_host(w), t.from_host(mean.astype(dt)),
        t.from_host(rstd.astype(dt)), x.shape[-1])]


def _batch_norm_backward(t, x, w, dt):
    x64 = x.astype("float64")
    mean, var = x64.mean((0, 2, 3)), x64.var((0, 2, 3))     # reference statistics
    g = t.from_host(data(x.shape, dt, 94))
    return [t.to_host(b) for b in t.batch_norm_backward(
        g, t.from_host(x), t.from_host(w), t.from_host(mean.astype(dt)),
        t.from_host(var.astype(dt)), 1e-5)]


def _lstm_cell(t, dt, part):
    """One step forward (and back), the written buffers rows of larger ones (offset views,
    as the recurrent layers pass them)."""
    n, h = 3, 5
    ig, hg = (t.from_host(data((n, 4 * h), dt, s, low=-4, high=4)) for s in (95, 96))
    c = t.from_host(data((n, h), dt, 97))
    states, ws = t.empty((3, n, h), dt), t.empty((n, 4 * h), dt)
    row = lambda buf, k, w: t.slice(buf, ((k, k + 1, 1), (0, n, 1), (0, w, 1)))  # noqa: E731
    h_out, c_out = row(states, 1, h), row(states, 2, h)
    t.lstm_cell(ig, hg, c, h_out, c_out, ws)
    if part == "lstm_cell":
        return [t.to_host(b) for b in (h_out, c_out, ws)]
    grads = t.empty((2, n, 4 * h), dt)
    dgates = row(grads, 1, 4 * h)
    dc = t.lstm_cell_backward(t.from_host(data((1, n, h), dt, 98)),
                              t.from_host(data((1, n, h), dt, 99)), c, c_out, ws, dgates)
    return [t.to_host(dgates), t.to_host(dc)]


_SHAPES = [(3, 4), (7,), ()]


def _sgd(t, dt):
    params = [t.from_host(data(s, dt, i)) for i, s in enumerate(_SHAPES)]
    grads = [t.from_host(data(s, dt, 90 + i)) for i, s in enumerate(_SHAPES)]
    bufs = [t.full(s, 0, dt) for s in _SHAPES]
    hyper = dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=True,
                 maximize=False)
    for step in range(3):
        t.sgd_step(params, grads, bufs, dict(hyper, first_step=step == 0))
    return [t.to_host(p) for p in params + bufs]


def _adam(t, dt):
    params = [t.from_host(data(s, dt, i)) for i, s in enumerate(_SHAPES)]
    grads = [t.from_host(data(s, dt, 90 + i)) for i, s in enumerate(_SHAPES)]
    state = [[t.full(s, 0, dt) for s in _SHAPES] for _ in range(3)]
    for step in range(1, 4):
        t.adam_step(params, grads, state[0], state[1], state[2],
                    dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                         decoupled=True, amsgrad=True, maximize=False, step=step))
    return [t.to_host(p) for p in params + state[0] + state[1] + state[2]]


_RANDOM = [("uniform", "float32", (0.0, 1.0)), ("uniform", "float32", (-2.0, 3.0)),
           ("uniform", "float16", (0.0, 1.0)), ("uniform", "float64", (-1.0, 1.0)),
           ("integer", "int64", (32, 10, 0)), ("integer", "int64", (64, 2 ** 40, -5)),
           ("integer", "bool", (32, 2, 0)), ("integer", "float16", (32, 2049, 0)),
           ("bernoulli", "float32", (2702159776422298,)),     # ceil(0.3 * 2**53)
           ("normal", "float32", (0.0, 1.0)), ("normal", "float32", (1.0, 2.0)),
           ("normal", "float16", (0.0, 1.0))]


def _mt19937(t, transform, dtype, params):
    """1500 values from a state 300 words into its block (so draws cross two twists)."""
    bits = np.random.MT19937(5)
    bits.random_raw(300)
    st = bits.state["state"]
    state = t.from_host(st["key"].astype(np.uint32).view(np.int32))
    out = t.mt19937_generate(state, int(st["pos"]), (30, 50), dtype, transform, params)
    return [t.to_host(out), t.to_host(state)]


def all_cases():
    """Every case of the kit, in contract order of families."""
    from . import cases
    out = []
    for family in (runtime_cases, cases.unary_cases, cases.binary_cases, cases.where_cases,
                   cases.reduce_cases, cases.view_cases, cases.indexing_cases, kernel_cases):
        out.extend(family())
    return out
