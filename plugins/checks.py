"""Shape and dtype rules of the contract, for ``PLUGRAD_DEBUG_KERNELS=1`` and the conformance kit.

:func:`expected` derives, from an op's arguments, the shape and dtype name its result must
have. :func:`checked` wraps one dispatch-table entry so a kernel that returns anything else
raises at once, naming the op, the implementation (plugin, distribution, version) and each
input's shape and dtype -- instead of a wrong tensor surfacing ten ops later. The wrapper is
installed only in debug mode: it costs a host round trip for buffers without a ``dtype``.
"""
from __future__ import annotations

import functools

import numpy

from .contract import OPS, buffer_dtype
from .types import PluginError

_BOOL_RESULT = frozenset(n for n, spec in OPS.items() if spec.result == "bool")
_SCALARS = (bool, int, float)


def dtype_name(impl, buf) -> str:
    """A buffer's dtype as a contract name: its ``dtype`` attribute, else via ``to_host``."""
    return buffer_dtype(buf) or numpy.asarray(impl.to_host(buf)).dtype.name


def _broadcast(*shapes):
    return tuple(numpy.broadcast_shapes(*shapes))


def expected(op: str, args: tuple, meta) -> tuple | None:
    """(shape, dtype) the result of ``op(*args)`` must have; None where no rule applies.

    ``meta(buf)`` returns a buffer's (shape, dtype name). For ops returning several buffers
    the result is a tuple of such pairs. A ``None`` dtype means "not determined by the inputs".
    """
    spec = OPS[op]
    group = spec.group
    if group in ("unary",):
        shape, dt = meta(args[0])
        return shape, "bool" if op in _BOOL_RESULT else dt
    if group in ("binary", "ternary"):
        operands = args if group == "binary" else args[1:]
        metas = [meta(a) for a in args if not isinstance(a, _SCALARS)]
        dts = [meta(a)[1] for a in operands if not isinstance(a, _SCALARS)]
        shape = _broadcast(*[m[0] for m in metas]) if metas else ()
        dt = "bool" if op in _BOOL_RESULT else (dts[0] if dts else None)
        return shape, dt
    if op in ("sum", "prod", "max", "min", "any", "all", "argmax", "argmin"):
        shape, dt = meta(args[0])
        axes = args[1] if op not in ("argmax", "argmin") else (args[1],)
        keep = args[2]
        out = tuple(1 if i in axes else n for i, n in enumerate(shape) if keep or i not in axes)
        return out, "int64" if op in ("argmax", "argmin") else dt
    if op in ("cumsum", "cumprod", "flip", "softmax", "log_softmax", "copy"):
        return meta(args[0])
    if op == "cast":
        return meta(args[0])[0], args[1]
    if op in ("reshape", "expand"):
        return tuple(args[1]), meta(args[0])[1]
    if op == "permute":
        shape, dt = meta(args[0])
        return tuple(shape[a] for a in args[1]), dt
    if op == "slice":
        shape, dt = meta(args[0])
        return tuple(len(range(a, b, s)) for a, b, s in args[1]), dt
    if op == "pad":
        shape, dt = meta(args[0])
        return tuple(n + a + b for n, (a, b) in zip(shape, args[1])), dt
    if op == "concat":
        metas = [meta(x) for x in args[0]]
        axis = args[1]
        shape = list(metas[0][0])
        shape[axis] = sum(m[0][axis] for m in metas)
        return tuple(shape), metas[0][1]
    if op == "index":
        shape, dt = meta(args[0])
        idx = [meta(i)[0] for i in args[1]]
        return _broadcast(*idx) + tuple(shape[len(idx):]), dt
    if op == "sort":
        shape, dt = meta(args[0])
        return (shape, dt), (shape, "int64")
    if op == "matmul":
        (sa, dt), (sb, _) = meta(args[0]), meta(args[1])
        return _broadcast(sa[:-2], sb[:-2]) + (sa[-2], sb[-1]), dt
    if op == "conv2d":
        (xs, dt), (ws, _) = meta(args[0]), meta(args[1])
        stride, padding, dilation = args[2], args[3], args[4]
        hw = tuple((xs[2 + i] + 2 * padding[i] - dilation[i] * (ws[2 + i] - 1) - 1)
                   // stride[i] + 1 for i in range(2))
        return (xs[0], ws[0]) + hw, dt
    if op == "addmm_act":
        (sb, _), (s1, dt), (s2, _) = meta(args[0]), meta(args[1]), meta(args[2])
        return _broadcast(sb, (s1[0], s2[1])), dt
    if op == "cross_entropy":
        shape, dt = meta(args[0])
        return ((shape[0],), dt), ((shape[0],), dt)
    if op == "cross_entropy_backward":
        return meta(args[1])
    if op in ("conv2d_input_grad", "conv2d_weight_grad"):
        return tuple(args[2]), meta(args[0])[1]
    if op in ("empty", "full"):
        return tuple(args[0]), args[-1]
    if op == "arange":
        return (args[2],), args[3]
    if op == "from_host":
        return args[0].shape, args[0].dtype.name
    return None


def _describe_inputs(op, args, meta) -> str:
    parts = []
    for i, (kind, value) in enumerate(zip(OPS[op].args, args)):
        if kind.startswith("buf") and not isinstance(value, _SCALARS) and value is not None:
            shape, dt = meta(value)
            parts.append(f"arg {i}: shape {tuple(shape)} {dt}")
        elif kind == "bufs":
            parts.append(f"arg {i}: " + ", ".join(
                f"{tuple(meta(v)[0])} {meta(v)[1]}" for v in value if v is not None))
        else:
            parts.append(f"arg {i}: {value!r}")
    return "; ".join(parts)


_cheap_dtype = buffer_dtype


def checked(fn, op: str, backend: str, impl, who: str, cheap: bool = False):
    """Wrap ``fn`` so a result of the wrong shape or dtype raises PluginError.

    Debug mode (``PLUGRAD_DEBUG_KERNELS=1``) wraps every native op and may read a buffer back
    to learn its dtype. ``cheap`` (always on for kernels supplied by plugins) checks only what
    the buffers say about themselves -- not None, ``shape``, a ``dtype`` attribute -- so a
    plugin's bad result fails at the call that made it, not as a corrupt tensor ten ops later.
    """
    if OPS[op].returns not in ("buf", "bufs"):
        return fn

    def meta(buf):
        return tuple(buf.shape), dtype_name(impl, buf)

    def cheap_meta(buf):
        return tuple(getattr(buf, "shape", ())), _cheap_dtype(buf)

    mode = ("plugrad kernel check" if cheap else
            "plugrad debug check (PLUGRAD_DEBUG_KERNELS=1)")

    def fail(problem, args, describe):
        raise PluginError(
            f"{mode}: '{op}' on backend '{backend}' {problem}.\n"
            f"  implementation: {who}\n"
            f"  inputs: {_describe_inputs(op, args, describe)}\n"
            "Fix the implementation (run `python -m plugrad conformance "
            f"{backend}` to see every op that disagrees with the cpu backend), or "
            "disable the plugin with PLUGRAD_DISABLE_PLUGINS=<plugin name>.")

    many = OPS[op].returns == "bufs"
    describe = cheap_meta if cheap else meta

    @functools.wraps(fn)
    def run(*args, **kwargs):
        result = fn(*args, **kwargs)
        if result is None or (many and (not isinstance(result, (tuple, list)) or
                                        any(r is None for r in result))):
            fail(f"returned {result!r} instead of a buffer", args, describe)
        if cheap and not hasattr(result, "shape") and not many:
            return result
        want = expected(op, args, describe)
        if want is None:
            return result
        if many and len(result) != len(want):
            fail(f"returned {len(result)} buffers, expected {len(want)}", args, describe)
        pairs = zip(result, want) if many else [(result, want)]
        for got_buf, (shape, dt) in pairs:
            got_shape, got_dt = describe(got_buf)
            if got_shape != tuple(shape) or (dt is not None and got_dt is not None and
                                             got_dt != dt):
                fail(f"returned shape {got_shape} and dtype {got_dt}, expected shape "
                     f"{tuple(shape)} and dtype {dt}", args, describe)
        return result

    return run
