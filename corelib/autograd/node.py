"""Graph nodes: what ``tensor.grad_fn`` returns. One subclass per differentiable op.

A node holds ``next`` -- one edge per differentiable input: the input's own node, the input
itself when it is a leaf that requires grad, or None -- and ``saved``, the tensors its
backward reads (None once the graph is freed). ``backward(grad)`` returns one gradient per
edge, computed with frontend ops so that ``create_graph=True`` differentiates it again.
"""
from __future__ import annotations

import traceback

from . import anomaly

FREED = ("Trying to backward through the graph a second time (or directly access saved "
         "tensors after they have already been freed). Saved intermediate values of the graph "
         "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
         "you need to backward through the graph a second time or if you need to access saved "
         "tensors after calling backward.")


class Node:
    """Base class of every ``grad_fn``."""
    # Hooks and anomaly traces are rare: they live in the instance __dict__ (created only when
    # set) behind these class defaults, so making a node stores three slots.
    __slots__ = ("next", "saved", "versions", "__dict__", "__weakref__")
    n_outputs = 1
    # complex gradients (torch's conjugate Wirtinger convention): the engine calls backward of
    # a holomorphic op's node with conj(grad) and conjugates what it returns, so each backward
    # is written once, as for real inputs; non-holomorphic ops (abs, angle, conj, real/imag
    # views) set this False and implement torch's formula themselves
    holomorphic = True
    pre_hooks = None
    post_hooks = None
    trace = None

    def __init__(self, next_edges, saved=()):
        self.next = next_edges
        self.saved = saved
        self.versions = tuple([t._vc[0] if t._vc else 0 for t in saved]) if saved else ()
        if anomaly.enabled:
            self.trace = traceback.format_stack()[:-2]

    # -------------------------------------------------------------------- introspection
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        """((node, 0), ...) with leaves wrapped in AccumulateGrad, as torch shows them."""
        out = []
        for edge in self.next:
            if edge is None or isinstance(edge, Node):
                out.append((edge, 0))
            else:
                out.append((AccumulateGrad(edge), 0))
        return tuple(out)

    @property
    def metadata(self) -> dict:
        return {}

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node's backward."""
        if self.post_hooks is None:
            self.post_hooks = []
        self.post_hooks.append(fn)
        return _Handle(self.post_hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node's backward; may return replacements."""
        if self.pre_hooks is None:
            self.pre_hooks = []
        self.pre_hooks.append(fn)
        return _Handle(self.pre_hooks, fn)

    # ---------------------------------------------------------------------------- backward
    def unpack(self):
        """The saved tensors, after checking they were neither freed nor modified in place."""
        saved = self.saved
        if saved is None:
            raise RuntimeError(FREED)
        self.check_versions()
        return saved

    def check_versions(self):
        """RuntimeError (torch's wording) if a saved tensor was modified in place since."""
        for t, version in zip(self.saved, self.versions):
            if t is not None and (t._vc[0] if t._vc else 0) != version:
                producer = self._producer(t)
                which = f", which is output 0 of {producer}," if producer else ""
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{t.type()} {list(t._shape)}]{which} is at version "
                    f"{t._version}; expected version {version} instead. Hint: enable anomaly "
                    "detection to find the operation that failed to compute its gradient, with "
                    "torch.autograd.set_detect_anomaly(True, check_nan=False).")

    def _producer(self, t):
        """Who made ``t``, as torch names it: this node for a saved output (kept in ``y`` or
        ``out``), else t's current grad_fn; None for a leaf. 'ExpBackward0' reads 'Exp'."""
        if any(t is getattr(self, attr, None) for attr in ("y", "out")):
            fn = self
        else:
            fn = t._grad_fn
        if fn is None:
            return None
        name = fn.name()
        stem = name.rstrip("0123456789")
        return stem[:-len("Backward")] if stem.endswith("Backward") else name

    def release(self):
        """Free what backward needed (called after backward unless retain_graph).

        Subclasses holding extra references to saved values clear them in ``_drop``.
        """
        if self.saved:
            self.saved = None
            self._drop()

    def _drop(self):
        pass

    def backward(self, grad):
        raise NotImplementedError(f"{self.name()} has no backward")

    def __call__(self, *grads):
        return self.backward(*grads)


class AccumulateGrad:
    """Stand-in shown in ``next_functions`` for a leaf that requires grad."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)


class _Handle:
    """Returned by hook registrations; ``remove()`` unregisters."""
    __slots__ = ("hooks", "fn")

    def __init__(self, hooks, fn):
        self.hooks, self.fn = hooks, fn

    def remove(self):
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)
