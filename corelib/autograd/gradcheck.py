"""Numerical gradient checks: analytical Jacobians vs. central differences (torch's gradcheck).

A failure names the function, the input and output, the index, and both values, like
minitorch's ``grad_check``.
"""
from __future__ import annotations


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _tensors(inputs):
    from .._tensor import Tensor
    return [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]


def _outputs(fn, inputs):
    from .._tensor import Tensor
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _numerical(fn, inputs, idx, t, out_index, eps):
    """d out[out_index] / d t, one column per element of t (central differences)."""
    import numpy

    from .grad_mode import no_grad
    data = t.detach()
    columns = []
    with no_grad():
        for k in range(data.numel()):
            at = tuple(int(i) for i in numpy.unravel_index(k, data._shape))
            orig = data[at].item()
            data[at] = orig + eps
            plus = _outputs(fn, inputs)[out_index].detach().reshape(-1).clone()
            data[at] = orig - eps
            minus = _outputs(fn, inputs)[out_index].detach().reshape(-1).clone()
            data[at] = orig
            columns.append((plus - minus) / (2 * eps))
    return columns


def _analytical(fn, inputs, tensors, out_index):
    """Rows of the Jacobian via one backward per output element."""
    from . import grad as autograd_grad
    out = _outputs(fn, inputs)[out_index]
    rows = []
    n = out.numel()
    for j in range(n):
        g = out.detach().new_zeros(out._shape).reshape(-1)
        g[j] = 1
        grads = autograd_grad(out, [t for _, t in tensors], g.reshape(out._shape),
                              retain_graph=True, allow_unused=True)
        rows.append(grads)
    return rows


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True if ``func``'s analytical gradients match finite differences for ``inputs``.

    Complex inputs and outputs are checked as torch checks them: as pairs of real numbers
    (each complex tensor seen through ``view_as_real``), which tests the conjugate Wirtinger
    gradients against the real Jacobian."""
    from .._tensor import Tensor
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    if any(isinstance(t, Tensor) and t._dtype.is_complex for t in inputs) or any(
            o._dtype.is_complex for o in _outputs(func, inputs)):
        func, inputs = _as_real(func, inputs)
    tensors = _tensors(inputs)
    if not tensors:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for _, t in tensors:
        if t._dtype.name not in ("float64",):
            import warnings
            warnings.warn(f"Input #{_} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of "
                          "double precision floating point. ", UserWarning, stacklevel=2)
    outputs = _outputs(func, inputs)
    name = getattr(func, "__name__", repr(func))
    for oi, out in enumerate(outputs):
        if not out._requires_grad:
            continue
        rows = _analytical(func, inputs, tensors, oi)
        for ti, (ii, t) in enumerate(tensors):
            numeric = _numerical(func, inputs, ii, t, oi, eps)
            for k, column in enumerate(numeric):
                for j in range(out.numel()):
                    a_grad = rows[j][ti]
                    a = 0.0 if a_grad is None else a_grad.reshape(-1)[k].item()
                    n = column[j].item()
                    if abs(a - n) > atol + rtol * abs(n):
                        message = (f"Jacobian mismatch for output {oi} with respect to input "
                                   f"{ii} of {name}: d out[{j}] / d in[{k}] analytical={a!r} "
                                   f"numerical={n!r}")
                        if raise_exception:
                            raise GradcheckError(message)
                        return False
    return True


def _as_real(func, inputs):
    """func and inputs rewritten over real tensors: complex inputs become (..., 2) real
    leaves, complex outputs their view_as_real."""
    from .._tensor import Tensor
    from ..ops.complex_ops import view_as_complex, view_as_real
    real_inputs = tuple(view_as_real(t.detach()).clone().requires_grad_(t._requires_grad)
                        if isinstance(t, Tensor) and t._dtype.is_complex else t
                        for t in inputs)

    def real_func(*args):
        ins = [view_as_complex(a) if isinstance(a, Tensor) and orig is not a and
               isinstance(orig, Tensor) and orig._dtype.is_complex else a
               for a, orig in zip(args, inputs)]
        outs = func(*ins)
        single = isinstance(outs, Tensor)
        outs = (outs,) if single else tuple(outs)
        outs = tuple(view_as_real(o) if isinstance(o, Tensor) and o._dtype.is_complex else o
                     for o in outs)
        return outs[0] if single else outs
    real_func.__name__ = getattr(func, "__name__", "func")
    return real_func, real_inputs


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **kwargs):
    """gradcheck of the gradient function (second derivatives via create_graph)."""
    from .._tensor import Tensor
    from . import grad as autograd_grad
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        from ..ops.creation import randn
        from .._dtype import float64
        grad_outputs = tuple(randn(o._shape, dtype=float64, device=o._device)
                             .to(o._dtype).requires_grad_(True) for o in outputs)
    grad_outputs = tuple(grad_outputs)

    def first_grads(*args):
        from .grad_mode import enable_grad
        ins = args[:len(inputs)]
        gos = args[len(inputs):]
        with enable_grad():     # the numerical pass evaluates this under no_grad
            return _first_grads(ins, gos)

    def _first_grads(ins, gos):
        outs = _outputs(func, ins)
        grads = autograd_grad(outs, [a for a in ins if isinstance(a, Tensor) and
                                     a._requires_grad],
                              gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
