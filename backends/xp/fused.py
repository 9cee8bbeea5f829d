"""Fused elementwise chains on the array-module backend (``optimize_program`` on ``cpu``):
the chain's ops run back to back through the backend's own primitives, writing into buffers
planned per chain instead of a fresh array per op.

Why this and not a code generator, measured on this machine (one thread, float32, process
time, ``/work/notes/fuse.md``): numexpr 2.14 (no VML) evaluates a GELU chain 5-6x and an Adam
update 3-4x *slower* than numpy's own SIMD ufuncs at 1e4-1e6 elements; numba (no fastmath, so
bitwise) wins 6-7x on pure arithmetic (a LayerNorm affine) but loses 3-5x wherever a
transcendental appears (scalar libm tanh/exp against numpy's SIMD ones) and costs a
fraction of a second of compilation per chain; running numpy in cache-sized blocks loses to
whole arrays. Reusing each intermediate's buffer for the next one gains (Adam 290 -> 195 us
at 1e5, GELU 402 -> 371) and keeps every value bitwise eager's: the same ufunc loops in the
same order -- from :data:`MIN_ELEMENTS` elements on.
"""
from __future__ import annotations

MIN_ELEMENTS = 1 << 16
"""Smaller chains replay op by op: there the per-node Python of a planned chain costs more
than the allocations it saves (compiled MLP and LSTM steps of plugrad/_bench_models.py,
process time: 1.42 -> 1.47 ms and 109.5 -> 113.9 ms with every chain planned)."""


class PlannedChain:
    """One chain on an array-module backend: ``chain_fn(operands, outs, shape)`` -> outputs.

    Each node calls the backend's op with ``out=`` a buffer that is either the output it
    becomes (a new array, or the existing one written in place) or a scratch buffer reused as
    soon as the value it holds is dead."""

    def __init__(self, backend, chain):
        self.backend = backend
        self.chain = chain
        nodes = chain.nodes
        self.fns = [getattr(backend, n.op) for n in nodes]
        last = {}
        for j, n in enumerate(nodes):
            for a in n.args:
                if a < 0:
                    last[-a - 1] = j
        self.last_use = last
        self.output_of = {node: k for k, node in enumerate(chain.outputs)}
        # a node writing an in-place output must not run before the chain's last read of
        # that buffer as an input: resolved per call (the caller says which outputs exist)

    def __call__(self, operands, outs, shape):
        be, chain = self.backend, self.chain
        outs = list(outs)
        free = {}                 # dtype -> scratch buffers no longer needed
        values = [None] * len(chain.nodes)
        inputs = list(operands)
        last = self.last_use
        for j, (node, fn) in enumerate(zip(chain.nodes, self.fns)):
            args = [inputs[a] if a >= 0 else values[-a - 1] for a in node.args]
            k = self.output_of.get(j)
            if node.op == "cast":
                result = be.cast(args[0], node.dtype)
                if k is not None and outs[k] is not None:
                    be.assign(outs[k], result)
                    result = outs[k]
            else:
                if k is not None:
                    target = outs[k]
                    if target is None:
                        target = outs[k] = be.empty(shape, node.dtype)
                else:
                    pool = free.get(node.dtype)
                    target = pool.pop() if pool else be.empty(shape, node.dtype)
                result = fn(*args, out=target)
            if k is not None:
                outs[k] = result
            values[j] = result
            for a in set(node.args):      # scratch whose last reader this was is free again
                # (once: mul(t, t) reads t twice, and a buffer freed twice is handed out twice)
                if a < 0 and last.get(-a - 1) == j and (-a - 1) not in self.output_of:
                    free.setdefault(chain.nodes[-a - 1].dtype, []).append(values[-a - 1])
        return outs
