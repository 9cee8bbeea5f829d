"""The Tensor: a backend buffer plus shape, dtype, device and autograd bookkeeping.

Only bookkeeping lives here (properties, conversion, backward entry point, repr). Math methods
are bound in :mod:`plugrad._methods` from the op modules, so each op is defined once and
shared by ``torch.add(a, b)``, ``a.add(b)`` and ``a + b``.
"""
from __future__ import annotations

import numpy

from . import _dtype
from ._dtype import dtype as _dtype_cls
from ._layout import strided as _strided
from .autograd.grad_mode import is_grad_enabled


class Size(tuple):
    """torch.Size: a tuple of ints that prints as ``torch.Size([2, 3])``."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


class Tensor:
    """A multi-dimensional array on some device, with define-by-run autograd."""

    __slots__ = ("_data", "_shape", "_dtype", "_device", "_requires_grad", "_grad_fn",
                 "__dict__", "__weakref__")

    # Rarely-set state lives in the instance __dict__ with these class-level defaults, so
    # creating a tensor sets only the six slots above.
    _grad = None
    _base = None            # the tensor this one is a view of
    _vc = None              # version counter [n], shared by a base and its views
    _hooks = None           # {handle id: fn} gradient hooks
    _post_accumulate_hooks = None
    _retains_grad = False
    _is_param = False

    def __new__(cls, *args, **kwargs):
        # torch.Tensor(...) legacy constructor: Tensor(2, 3) is uninitialised float,
        # Tensor([1, 2]) copies data as the default float dtype.
        from .ops.creation import legacy_tensor
        if cls is Tensor:
            return legacy_tensor(*args, **kwargs)
        return super().__new__(cls)

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim=None):
        """The shape as a ``torch.Size``, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._shape)
        return self._shape[_wrap_dim(dim, len(self._shape))]

    @property
    def dtype(self) -> _dtype_cls:
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        """The number of dimensions (also ``ndimension()`` and ``.ndim``)."""
        return len(self._shape)

    ndimension = dim

    def numel(self) -> int:
        """The number of elements (also ``nelement()``)."""
        n = 1
        for s in self._shape:
            n *= s
        return n

    nelement = numel

    def element_size(self) -> int:
        """The size of one element in bytes."""
        return self._dtype.itemsize

    def data_ptr(self) -> int:
        """Address of the first element (0 for an empty tensor), as torch's ``data_ptr``.

        From the buffer's ``__array_interface__`` or ``__cuda_array_interface__`` (cpu, cuda),
        or its ``ptr`` (opencl: the ``cl_mem`` handle plus the byte offset -- like a CUDA
        pointer, an identity that views share, not an address the host can read). A
        third-party buffer with none of these raises RuntimeError.
        """
        if not self.numel():
            return 0
        buf = self._data
        face = getattr(buf, "__cuda_array_interface__", None) or \
            getattr(buf, "__array_interface__", None)
        if face is not None:
            return int(face["data"][0])
        ptr = getattr(buf, "ptr", None)
        if isinstance(ptr, int):
            return ptr
        raise RuntimeError(f"data_ptr(): tensors on device '{self._device}' have no address: "
                           f"the '{self._device.type}' backend's buffers expose none "
                           "(__array_interface__, __cuda_array_interface__ or an int 'ptr')")

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self._dtype.itemsize

    def stride(self, dim=None):
        """The step in elements between neighbours of each dim (a tuple), or of dim ``dim``."""
        strides = self._device.ops.strides(self._data)
        return strides if dim is None else strides[_wrap_dim(dim, len(self._shape))]

    def is_contiguous(self, memory_format=None) -> bool:
        """True if the elements are laid out row-major (or in ``memory_format``) without gaps."""
        if memory_format is not None:
            from ._memory_format import is_contiguous_as
            return is_contiguous_as(self, memory_format)
        expected = 1
        for size, stride in zip(reversed(self._shape), reversed(self.stride())):
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    # torch's other device and layout flags: plugrad has none of these devices or layouts,
    # so each is False (a tensor on a third-party device 'xpu' would report its own type)
    is_xpu = property(lambda self: self._device.type == "xpu")
    is_mps = property(lambda self: self._device.type == "mps")
    is_meta = property(lambda self: self._device.type == "meta")
    is_ipu = is_maia = is_mtia = is_xla = is_vulkan = property(lambda self: False)
    is_sparse_csr = is_quantized = is_mkldnn = is_nested = property(lambda self: False)
    is_sparse = False           # True on plugrad.sparse.SparseTensor (a class flag: cheap)
    layout = _strided           # torch.strided; torch.sparse_coo on SparseTensor

    def is_signed(self) -> bool:
        """True if the dtype holds negative values (not uint8 or bool)."""
        return self._dtype.is_signed

    def is_same_size(self, other) -> bool:
        """True if self and other have the same shape."""
        return self._shape == other._shape

    def is_conj(self) -> bool:
        """Always False: ``conj()`` makes a conjugated copy (torch's lazy conjugate bit is an
        optimisation plugrad does not have), so no tensor is an unresolved conjugate."""
        return False

    def is_neg(self) -> bool:
        """Always False: no lazy negation bit."""
        return False

    def is_pinned(self, device=None) -> bool:
        """Always False: plugrad does not page-lock host memory."""
        return False

    def untyped_storage(self):
        """The buffer this tensor and its views share, as bytes (see plugrad._storage)."""
        from ._storage import untyped_storage
        return untyped_storage(self)

    def storage(self):
        """The shared buffer, typed (deprecated in torch, with its warning)."""
        from ._storage import typed_storage
        return typed_storage(self)

    def share_memory_(self):
        """Move the data into memory forked processes share (torch.multiprocessing)."""
        from .multiprocessing.sharing import share_memory_
        return share_memory_(self)

    def is_shared(self) -> bool:
        """True if the data is in shared memory (after ``share_memory_()``)."""
        from .multiprocessing.sharing import is_shared
        return is_shared(self)

    def is_floating_point(self) -> bool:
        """True if the dtype is floating (float16/bfloat16/float32/float64)."""
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        """True if the dtype is complex (complex64/complex128)."""
        return self._dtype.is_complex

    def get_device(self) -> int:
        """The device index: -1 on the cpu, the ordinal on an accelerator."""
        return -1 if self._device.type == "cpu" else self._device.index

    def type(self, dtype=None):
        """The legacy type name (``"torch.FloatTensor"``) or, given a type or its name, a
        converted tensor."""
        if dtype is None:
            prefix = "torch." if self._device.type == "cpu" else f"torch.{self._device.type}."
            return prefix + _LEGACY_TYPE_NAMES[self._dtype.name]
        from ._legacy_types import resolve_type
        return self.to(resolve_type(dtype))

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def _version(self) -> int:
        return self._vc[0] if self._vc else 0

    @property
    def data(self):
        """A tensor sharing this one's storage, outside the graph (torch's ``.data``)."""
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data, self._shape = value._data, value._shape
        self._dtype, self._device = value._dtype, value._device

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True):
        """Set whether autograd records operations on this tensor (leaves only); returns self."""
        if type(requires_grad) is not bool:
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be "
                            f"bool, not {type(requires_grad).__name__}")
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and not (self._dtype.is_floating_point or self._dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value._dtype is not self._dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value._device is not self._device:
                raise RuntimeError("assigned grad has data located on a different device")
            if value._shape != self._shape:
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward (accumulating, as torch)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        import weakref
        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                t._grad = grad.detach().clone() if t._grad is None else t._grad + grad
        self._grad_fn.register_prehook(keep)

    def register_hook(self, hook):
        """hook(grad) -> None or a replacement gradient, run when this tensor's grad is ready."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._grad_fn is not None:
            return self._grad_fn.register_prehook(hook)
        if self._hooks is None:
            self._hooks = {}
        self._hooks[id(hook)] = hook
        return _TensorHookHandle(self._hooks, id(hook))

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after a backward pass accumulates into this leaf's ``.grad``;
        returns a handle with ``remove()``."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return _ListHandle(self._post_accumulate_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into each leaf's ``.grad`` (``gradient`` required unless
        self is a scalar); frees the graph unless ``retain_graph``."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A new tensor sharing storage (and version counter), outside the graph. Not a view
        for autograd (torch: ``detach()._base`` is None), so it may be modified in place."""
        out = _from_buffer(self._data, self._shape, self._dtype, self._device)
        out._vc = self._shared_vc()
        return out

    def detach_(self):
        """Cut this tensor from the autograd graph in place (makes it a leaf); returns self."""
        if self._base is not None and self._grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def _shared_vc(self):
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    def _bump_version(self):
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force=False):
        """The data as a numpy array, sharing memory on host devices; ``force=True`` also takes
        tensors that require grad or live off the host (copied)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if not self._device.host_memory and not force:
            raise TypeError(f"can't convert {self._device.type}:{self._device.index} device "
                            "type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
                            "memory first.")
        return self._host()

    def _host(self) -> numpy.ndarray:
        """The values as a numpy array (shares memory on host backends)."""
        if self._dtype.np is None:
            raise TypeError(f"Got unsupported ScalarType {_dtype.legacy_name(self._dtype)}")
        return self._device.ops.to_host(self._data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to "
                               "Scalar")
        return self._printable().reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of numbers; a number for a 0-d tensor."""
        return self._printable().tolist()

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        array = self._host()
        if copy is False and not self._device.host_memory:
            raise ValueError("Unable to avoid copy while creating an array as requested: the "
                             f"tensor lives on {self._device}")
        if dtype is not None and numpy.dtype(dtype) != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    __array_priority__ = 1000

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._shape[0]))

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self):
        if self._dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ printing
    def __repr__(self, *, tensor_contents=None):
        from ._formatting import format_tensor
        values = self._printable()
        fn = self._grad_fn
        text = format_tensor(
            values, dtype=self._dtype.name, default_dtype=_dtype.get_default_dtype().name,
            device=None if self._device.type == "cpu" else str(self._device),
            grad_fn=fn.name() if fn is not None else None,
            requires_grad=self._requires_grad and fn is None)
        if self._is_param:
            return "Parameter containing:\n" + text
        return text

    __str__ = __repr__

    def _printable(self):
        if self._dtype.np is None:  # bfloat16 on a backend that has it: print as float32
            return self._device.ops.to_host(self._device.ops.cast(self._data, "float32"))
        return self._host()

    def __format__(self, spec):
        if not self._shape:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __dlpack__(self, stream=None, **kwargs):
        from ._dlpack import export_check, no_dlpack
        export_check(self)
        export = getattr(self._data, "__dlpack__", None)
        if export is None:
            raise no_dlpack(self, "__dlpack__")
        return export(**({"stream": stream} if stream is not None else {}), **kwargs)

    def __dlpack_device__(self):
        device = getattr(self._data, "__dlpack_device__", None)
        if device is None:
            from ._dlpack import no_dlpack
            raise no_dlpack(self, "__dlpack_device__")
        return device()

    @property
    def __cuda_array_interface__(self):
        if self._device.type != "cuda":
            raise AttributeError(f"Can't get __cuda_array_interface__ on non-CUDA tensor type: "
                                 f"{self.type()} If CUDA data is required use tensor.cuda() to "
                                 "copy tensor to device memory.")
        if self._requires_grad:
            raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires "
                               "grad. If gradients aren't required, use var.detach() to get "
                               "Variable that doesn't require grad.")
        return self._data.__cuda_array_interface__

    def __reduce_ex__(self, protocol):
        from .serialization import _pickled_values, _rebuild_tensor
        return (_rebuild_tensor, (_pickled_values(self), self._dtype.name,
                                  str(self._device), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        from .ops.movement import clone
        with _no_grad():
            new = clone(self)
        new = _as_same_class(self, new)
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new


def _as_same_class(template, t):
    if type(template) is Tensor:
        return t
    out = type(template).__new__(type(template), t, requires_grad=template._requires_grad)
    return out


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()


_LEGACY_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}


class _TensorHookHandle:
    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


class _ListHandle:
    def __init__(self, hooks, fn):
        self.hooks, self.fn = hooks, fn

    def remove(self):
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)


_new = object.__new__


def _from_buffer(data, shape, dtype, device):
    """Wrap a backend buffer as a Tensor (the one constructor every op uses)."""
    t = _new(Tensor)
    t._data = data
    t._shape = shape
    t._dtype = dtype
    t._device = device
    t._requires_grad = False
    t._grad_fn = None
    return t


def _wrap_dim(dim, ndim):
    """Normalise a possibly negative dim; IndexError as torch raises it, TypeError for a
    dim that is not an integer (``sum(dim=True)`` reduced dim 1 on opencl)."""
    if type(dim) is not int:
        if isinstance(dim, bool) or not hasattr(dim, "__index__"):
            raise TypeError(f"argument 'dim' must be int, not {type(dim).__name__}")
        dim = dim.__index__()
    low = -ndim if ndim else -1
    high = ndim - 1 if ndim else 0
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], "
                         f"but got {dim})")
    return dim + ndim if dim < 0 else dim
