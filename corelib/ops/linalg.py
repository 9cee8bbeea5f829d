"""Matrix products: matmul/mm/bmm/mv/dot/outer/addmm and einsum.

All go through one primitive op, ``_matmul`` on >= 2-D operands with broadcast batch dims,
which uses the backend's ``matmul`` kernel when it has one and broadcast-multiply + sum
otherwise. 1-D operands are handled by unsqueeze/squeeze around it, as numpy and torch do.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad, unbroadcast
from ._operands import broadcast_shapes, check_same_device
from .views import TBackward0, unsafe_view
from .inplace import write_out


def _legacy(dt):
    return D.c_name(dt)


def _check_pair(a, b, name):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' must be Tensor, not "
                        f"{type(b if isinstance(a, Tensor) else a).__name__}")
    check_same_device(a, b)
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_legacy(a._dtype)} != {_legacy(b._dtype)}")
    if a._dtype is D.bool_:     # torch has no bool kernels for products
        kernel = {"dot": "dot", "mm": "addmm_impl_cpu_", "bmm": "bmm"}.get(name, name)
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _numpy_operands(a, b):
    """An ndarray operand of ``@`` becomes a tensor on the other's device; the pair is
    promoted to one dtype (torch gives ``t @ ndarray`` the promoted dtype)."""
    import numpy
    from .creation import from_host_array
    like = a if isinstance(a, Tensor) else b
    if isinstance(a, numpy.ndarray):
        a = from_host_array(numpy.ascontiguousarray(a), None, like._device, owned=False)
    if isinstance(b, numpy.ndarray):
        b = from_host_array(numpy.ascontiguousarray(b), None, like._device, owned=False)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._dtype is not b._dtype:
        dt = D.promote_types(a._dtype, b._dtype)
        a, b = a.to(dt), b.to(dt)
    return a, b


class _MatmulNode(Node):
    __slots__ = ("a", "b")

    def _drop(self):
        self.a = self.b = None

    def backward(self, g):
        a, b = self.a, self.b
        ea, eb = self.next
        ga = gb = None
        if ea is not None:
            ga = unbroadcast(_mm(g, b.transpose(-1, -2)), a._shape)
        if eb is not None:
            gb = _weight_grad(a, g, eb) if a.ndim == 2 and g.ndim == 2 else unbroadcast(
                _mm(a.transpose(-1, -2), g), b._shape)
        return ga, gb


def _weight_grad(a, g, edge_b):
    """a.T @ g; when b was ``weight.t()`` compute (g.T @ a).T, so that after TBackward0's
    transpose the weight's gradient is contiguous and lands in ``.grad`` without a copy
    (torch's mm_mat2_backward picks the layout the same way)."""
    if type(edge_b) is TBackward0:
        return _mm(g.t(), a).t()
    return _mm(a.t(), g)


class MmBackward0(_MatmulNode):
    __slots__ = ()


class BmmBackward0(_MatmulNode):
    __slots__ = ()


class MatmulBackward0(_MatmulNode):
    """Batched matmul; torch reaches it through bmm + a view, hence its grad_fn name."""
    __slots__ = ()

    def name(self):
        return "UnsafeViewBackward0"


class _MatmulCloneBackward(_MatmulNode):
    """2-D @ batched: torch computes it transposed and makes it contiguous (a clone)."""
    __slots__ = ()

    def name(self):
        return "CloneBackward0"


def _mm(a, b, node_cls=None):
    """a (..., n, k) @ b (..., k, m) with broadcast batch dims; both >= 2-D."""
    n, k = a._shape[-2:]
    k2, m = b._shape[-2:]
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
    shape = batch + (n, m)
    dev = a._device
    kernel = dev.ops.matmul
    if kernel is not None:
        data = kernel(a._data, b._data)
    else:
        prod = a.detach().unsqueeze(-1) * b.detach().unsqueeze(-3)
        data = prod.sum(-2)._data
    out = _from_buffer(data, shape, a._dtype, dev)
    if needs_grad(a, b):
        cls = node_cls or (MmBackward0 if len(shape) == 2 else MatmulBackward0)
        node = cls((edge(a), edge(b)), (a, b))
        node.a, node.b = a, b
        attach(out, node)
    return out


def _should_fold(a, b):
    """torch's rule for a >= 3-D @ 2-D: fold a's batch dims into rows when b needs a
    gradient (one GEMM for it, at the price of a copy of a when a's dims do not merge) or
    when they merge without a copy."""
    if b.requires_grad or not a.numel():
        return True
    shape, strides = a._shape, a.stride()
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """numpy-style matrix product (1-D operands are promoted and the added dims removed)."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        input, other = _numpy_operands(input, other)
    if input.is_sparse or other.is_sparse:
        from ..sparse import product
        return product(input, other)
    _check_pair(input, other, "matmul")
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D "
                           f"and {db}D")
    if da == 1 and db == 1:
        result = dot(input, other)
    elif da == 1:
        if input._shape[0] != other._shape[-2]:
            raise RuntimeError(f"size mismatch, got input ({input._shape[0]}), mat "
                               f"({other._shape[-2]}x{other._shape[-1]})" if db == 2 else
                               f"Expected size for first two dimensions of batch2 tensor to "
                               f"be: [{other.numel() // (other._shape[-2] * other._shape[-1])}"
                               f", {input._shape[0]}] but got: [{other._shape[0]}, "
                               f"{other._shape[-2]}].")
        result = _mm(input.unsqueeze(0), other)
        result = named(result.squeeze(-2), "SqueezeBackward4" if db == 2 else
                       "UnsafeViewBackward0")
    elif db == 1:
        if input._shape[-1] != other._shape[0]:
            raise RuntimeError(f"size mismatch, got input ({input._shape[-2]}), mat "
                               f"({input._shape[-2]}x{input._shape[-1]}), vec "
                               f"({other._shape[0]})")
        result = _mm(input, other.unsqueeze(-1), MatmulBackward0).squeeze(-1)
        result = named(result, "MvBackward0" if da == 2 else "UnsafeViewBackward0")
    elif da == 2 and db > 2:
        result = _mm(input, other, _MatmulCloneBackward)
    elif da > 2 and db == 2 and _should_fold(input, other):
        # (..., n, k) @ (k, m) as one (rows, k) @ (k, m) GEMM: the weight's gradient is then
        # one GEMM too, not a batched product summed over the batch (torch's should_fold)
        batch, k = input._shape[:-1], input._shape[-1]
        result = _mm(input.reshape(math.prod(batch), k), other, MmBackward0)
        result = unsafe_view(result, batch + (other._shape[-1],))
    else:
        result = _mm(input, other)
    if out is not None:
        return write_out(out, result)
    return result


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product of two 2-D tensors, (n, k) @ (k, m) -> (n, m)."""
    if input.is_sparse or mat2.is_sparse:
        from ..sparse import product
        return product(input, mat2)
    _check_pair(input, mat2, "mm")
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _mm(input, mat2, MmBackward0)


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched matrix product of two 3-D tensors, (b, n, k) @ (b, k, m) -> (b, n, m)."""
    _check_pair(input, mat2, "bmm")
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input._shape[0] != mat2._shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._shape[0]}, {input._shape[2]}] but got: "
                           f"[{mat2._shape[0]}, {mat2._shape[1]}].")
    return _mm(input, mat2, BmmBackward0)


def mv(input, vec):
    """Matrix-vector product, (n, k) @ (k,) -> (n,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec.ndim}, {input.ndim}, "
                           f"{vec.ndim}")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length (a 0-d tensor)."""
    _check_pair(input, other, "dot")
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    if input._shape != other._shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and "
                           f"src [{other._shape[0]}] to have the same number of elements, but "
                           "got {other._shape[0]} and {input._shape[0]} elements respectively")
    return named(_mm(input.unsqueeze(0), other.unsqueeze(1)).reshape(()), "DotBackward0")


inner = dot


def outer(input, vec2):
    """input[:, None] * vec2[None, :] (torch's own decomposition, hence MulBackward0)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D"
                           if input.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


class AddmmBackward0(Node):
    __slots__ = ("m1", "m2", "shape", "beta", "alpha", "bdtype")

    def _drop(self):
        self.m1 = self.m2 = None

    def backward(self, g):
        e_in, e1, e2 = self.next
        gi = g1 = g2 = None
        if e_in is not None:
            gi = unbroadcast(g if self.beta == 1 else g * self.beta, self.shape)
        if e1 is not None:
            g1 = _mm(g, self.m2.t())
            g1 = g1 if self.alpha == 1 else g1 * self.alpha
        if e2 is not None:
            g2 = _weight_grad(self.m1, g, e2)
            g2 = g2 if self.alpha == 1 else g2 * self.alpha
        return gi, g1, g2


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1,
          out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) -- one node, as torch's Linear uses."""
    _check_pair(mat1, mat2, "addmm")
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got {}-D tensor".format(mat1.ndim))
    kernel = mat1._device.ops.addmm_act
    if (kernel is not None and beta == 1 and alpha == 1 and input._dtype is mat1._dtype
            and input._device is mat1._device and mat1._shape[1] == mat2._shape[0]
            and broadcast_shapes(input._shape, (mat1._shape[0], mat2._shape[1]))
            == (mat1._shape[0], mat2._shape[1])):
        # Linear's common case: GEMM and bias in one backend call, no temporary for the sum
        result = _from_buffer(kernel(input._data, mat1._data, mat2._data, "none"),
                       (mat1._shape[0], mat2._shape[1]), mat1._dtype, mat1._device)
    else:
        from ..autograd.grad_mode import no_grad
        with no_grad():
            prod = _mm(mat1, mat2)
            if alpha != 1:
                prod = prod * alpha
            result = prod + (input if beta == 1 else input * beta)
        result = _from_buffer(result._data, result._shape, result._dtype, result._device)
    if needs_grad(input, mat1, mat2):
        node = AddmmBackward0((edge(input), edge(mat1), edge(mat2)), (mat1, mat2))
        node.m1, node.m2, node.shape = mat1, mat2, input._shape
        node.beta, node.alpha = beta, alpha
        attach(result, node)
    if out is not None:
        return write_out(out, result)
    return result


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2)."""
    prod = bmm(batch1, batch2)
    prod = prod if alpha == 1 else prod * alpha
    return named(prod + (input if beta == 1 else input * beta), "BaddbmmBackward0")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    prod = mv(mat, vec)
    prod = prod if alpha == 1 else prod * alpha
    return named(prod + (input if beta == 1 else input * beta), "AddmvBackward0")


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.ndim}-D"
                           if vec1.ndim != 1 else
                           f"addr: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    prod = vec1.unsqueeze(1) * vec2.unsqueeze(0)
    prod = prod if alpha == 1 else prod * alpha
    return named(prod + (input if beta == 1 else input * beta), "AddrBackward0")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    prod = bmm(batch1, batch2).sum(0)
    prod = prod if alpha == 1 else prod * alpha
    return named(prod + (input if beta == 1 else input * beta), "AddbmmBackward0")


def chain_matmul(*matrices, out=None):
    """torch.chain_matmul (deprecated): linalg.multi_dot of the arguments."""
    import warnings
    from .linalg_compose import multi_dot
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(list(matrices))


def trace(input):
    """Sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input.ndim))
    if input._dtype is D.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    from .strided_views import diagonal
    return named(diagonal(input).sum(), "TraceBackward0")


def tensordot(a, b, dims=2):
    """Sum of products over ``dims``: the last ``dims`` axes of ``a`` with the first of
    ``b`` (an int), or the listed axes (a pair of lists)."""
    if isinstance(dims, int):
        dims_a = list(range(a.ndim - dims, a.ndim))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = 1
    for d in dims_a:
        k *= a._shape[d]
    am = a.permute(free_a + dims_a).reshape(-1, k)
    bm = b.permute(dims_b + free_b).reshape(k, -1)
    return _mm(am, bm).reshape([a._shape[d] for d in free_a] + [b._shape[d] for d in free_b])


def einsum(equation, *operands):
    """Einstein summation: repeated labels become diagonals, labels only one operand has are
    summed, and operands are contracted left to right with one (batched) matmul each."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    lhs, rhs = equation.split("->") if "->" in equation else (equation, None)
    raw = lhs.split(",")
    if len(raw) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(raw) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    n_ell = 0
    for t, op in zip(raw, operands):
        if "..." in t:
            n_ell = max(n_ell, op.ndim - (len(t) - 3))
    ell = [chr(0x2460 + i) for i in range(n_ell)]   # private labels, aligned from the right

    def expand(term, ndim):
        if "..." not in term:
            return term
        k = ndim - (len(term) - 3)
        return term.replace("...", "".join(ell[n_ell - k:]))

    terms = [expand(t, op.ndim) for t, op in zip(raw, operands)]
    if rhs is None:
        counts = {}
        for t in terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = "".join(ell) + "".join(sorted(c for c, n in counts.items()
                                            if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", "".join(ell))
    sizes, ops = {}, []
    for i, (t, op) in enumerate(zip(terms, operands)):
        if len(t) != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({op.ndim}) for "
                               f"operand {i} and no ellipsis was given")
        op, t = _take_diagonals(op, t)
        for c, s in zip(t, op._shape):
            if c in sizes and s not in (1, sizes[c]) and sizes[c] != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(original->remapped): subscript {c!r} has sizes "
                                   f"{sizes[c]} and {s}")
            sizes[c] = max(sizes.get(c, 1), s)
        ops.append((op, t))
    for c in rhs:
        if c not in sizes:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation "
                               "for any input operand")
    # sum out labels only one operand has (and the output lacks), then contract pairwise
    # with matmul, keeping the labels later operands or the output still need
    ops = [_sum_private(op, t, rhs, [u for j, (_, u) in enumerate(ops) if j != i])
           for i, (op, t) in enumerate(ops)]
    result, labels = ops[0]
    for i in range(1, len(ops)):
        later = set(rhs).union(*[set(u) for _, u in ops[i + 1:]])
        result, labels = _contract(result, labels, ops[i][0], ops[i][1], later, sizes)
    extra = tuple(k for k, c in enumerate(labels) if c not in rhs)
    if extra:
        result = result.sum(extra)
        labels = "".join(c for c in labels if c in rhs)
    perm = [labels.index(c) for c in rhs]
    if perm != list(range(len(perm))):
        result = result.permute(perm)
    elif result is operands[0] or (len(operands) == 1 and result._base is operands[0]):
        result = result.clone()
    return result


def _sum_private(op, term, rhs, others):
    """Sum the dims whose label no other operand and not the output uses."""
    used = set(rhs).union(*[set(u) for u in others])
    dims = tuple(k for k, c in enumerate(term) if c not in used)
    if dims:
        op = op.sum(dims)
        term = "".join(c for c in term if c in used)
    return op, term


def _contract(a, la, b, lb, keep, sizes):
    """Contract operands a (labels la) and b (labels lb) with one (batched) matmul."""
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    a = a.permute([la.index(c) for c in batch + left + summed])
    b = b.permute([lb.index(c) for c in batch + summed + right])
    full = [sizes[c] for c in summed]
    if list(a.shape[len(batch) + len(left):]) != full:   # a size-1 summed label broadcasts
        a = a.expand(*a.shape[:len(batch) + len(left)], *full)
    if list(b.shape[len(batch):len(batch) + len(summed)]) != full:
        b = b.expand(*b.shape[:len(batch)], *full, *b.shape[len(batch) + len(summed):])
    nb = len(batch)
    k = 1
    for c in summed:
        k *= sizes[c]
    lsz = [a.shape[nb + j] for j in range(len(left))]
    rsz = [b.shape[nb + len(summed) + j] for j in range(len(right))]
    am = a.reshape(*a.shape[:nb], _prod(lsz), k)
    bm = b.reshape(*b.shape[:nb], k, _prod(rsz))
    out = _mm(am, bm)
    out = out.reshape(*out.shape[:nb], *lsz, *rsz)
    return out, "".join(batch + left + right)


def _prod(values):
    n = 1
    for v in values:
        n *= v
    return n


def _take_diagonals(op, term):
    """'ii' in one operand: take the diagonal so each label appears once."""
    while len(set(term)) != len(term):
        for i, c in enumerate(term):
            j = term.find(c, i + 1)
            if j != -1:
                op = op.diagonal(0, i, j)
                term = term[:i] + term[i + 1:j] + term[j + 1:] + c
                break
    return op, term
