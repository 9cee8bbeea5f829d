"""Custom differentiable functions: subclass ``Function`` with static forward and backward.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

``Exp.apply(x)`` runs forward without recording, then makes the node (``ctx`` itself, of the
class ``ExpBackward`` made for ``Exp``, as in torch) the grad_fn of the outputs. A function with several outputs gives each output a
small selector node; their gradients meet in ``_Slots`` that the engine sums like tensors.
"""
from __future__ import annotations

from .grad_mode import is_grad_enabled, no_grad
from .node import Node


class FunctionCtx(Node):
    """The ``ctx`` of a custom Function, and its graph node."""
    __slots__ = ("fn_cls", "needs_input_grad", "n_outputs_", "materialize",
                 "non_differentiable", "dirty", "to_save", "out_meta")

    def name(self):
        return f"{self.fn_cls.__name__}Backward"

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.to_save = tensors

    @property
    def saved_tensors(self):
        return self.unpack()

    def mark_dirty(self, *tensors):
        self.dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool):
        self.materialize = bool(value)

    def backward(self, grad):
        grads = grad.values(self.n_outputs_) if isinstance(grad, _Slots) else (grad,)
        if self.materialize:
            grads = tuple(g if g is not None else _zeros(meta) for g, meta in
                          zip(grads, self.out_meta))
        result = self.fn_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_inputs = len(self.next)
        if len(result) < n_inputs:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n_inputs}, got {len(result)})")
        result = result[:n_inputs]
        checked = []
        for i, (g, edge_) in enumerate(zip(result, self.next)):
            if g is not None and edge_ is not None:
                want = edge_._shape if not isinstance(edge_, Node) else None
                if want is not None and g._shape != want:
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at "
                                       f"index {i} - got {list(g._shape)} but expected shape "
                                       f"compatible with {list(want)}")
            checked.append(g if edge_ is not None else None)
        return tuple(checked)

    def _drop(self):
        self.to_save = ()


def _zeros(meta):
    from ..ops.creation import zeros
    shape, dtype, device = meta
    return zeros(shape, dtype=dtype, device=device)


class _Slots:
    """Gradients for some outputs of a multi-output Function; ``+`` merges or sums."""
    __slots__ = ("grads",)

    def __init__(self, grads):
        self.grads = grads

    def __add__(self, other):
        merged = dict(self.grads)
        for i, g in other.grads.items():
            merged[i] = merged[i] + g if i in merged else g
        return _Slots(merged)

    def values(self, n):
        return tuple(self.grads.get(i) for i in range(n))


class _OutputSelect(Node):
    """grad_fn of output ``index`` of a multi-output Function."""
    __slots__ = ("index", "fn")
    holomorphic = False     # it only routes the gradient to the Function's own node

    def name(self):
        return self.fn.name()

    def backward(self, grad):
        return (_Slots({self.index: grad}),)


class FunctionMeta(type):
    """Gives each Function subclass its node classes, named ``<ClassName>Backward`` as torch
    names them (``type(y.grad_fn).__name__``)."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._backward_cls = type(f"{name}Backward", (FunctionCtx,), {"__slots__": ()})
        cls._select_cls = type(f"{name}Backward", (_OutputSelect,), {"__slots__": ()})


class Function(metaclass=FunctionMeta):
    """Base class for custom autograd functions (see module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor
        from ..ops._graph import edge
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx = cls._backward_cls(tuple(edge(a) if isinstance(a, Tensor) else None for a in args))
        ctx.fn_cls = cls
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx.materialize, ctx.non_differentiable, ctx.dirty, ctx.to_save = True, (), (), ()
        with no_grad():
            if cls.setup_context is not Function.setup_context and \
                    "ctx" not in cls.forward.__code__.co_varnames[:1]:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        record = is_grad_enabled() and any(t._requires_grad for t in tensors)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        ctx.n_outputs_ = len(outs)
        ctx.out_meta = tuple((o._shape, o._dtype, o._device) if isinstance(o, Tensor) else None
                             for o in outs)
        ctx.saved = tuple(ctx.to_save)
        ctx.versions = tuple((t._vc[0] if t._vc else 0) if t is not None else 0
                             for t in ctx.saved)
        if not record:
            return outputs
        results = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor) or any(o is n for n in ctx.non_differentiable) \
                    or not (o._dtype.is_floating_point or o._dtype.is_complex):
                results.append(o)
                continue
            if any(o is d for d in ctx.dirty):
                o._bump_version()
            elif any(o is a for a in tensors) or o._grad_fn is not None or o._base is not None:
                o = o.view_as(o).detach()   # returning an input (or a view) unchanged
            if single:
                o._grad_fn = ctx
            else:
                selector = cls._select_cls((ctx,))
                selector.index, selector.fn = i, ctx
                o._grad_fn = selector
            o._requires_grad = True
            results.append(o)
        return results[0] if single else tuple(results)


class once_differentiable:
    """Decorator for backward methods that can't be differentiated again (accepted, no-op)."""

    def __new__(cls, fn):
        return fn
