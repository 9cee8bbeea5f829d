"""A CuPy stand-in for the tests only: numpy memory, the backend's own CUDA bodies run by g++.

The cuda backend's Python glue (which kernel gets which arrays, in what order and dtype, what
is read back and when) cannot run without a GPU. This module imitates the parts of CuPy that
glue touches closely enough to run it:

* arrays are numpy arrays with CuPy's ``device.id``, ``data.ptr`` and ``get()``;
* ``ElementwiseKernel`` runs *the backend's kernel body* -- compiled by g++ in CuPy's loop
  shape (tests/support/cuda_host.py) -- and checks its arguments as CuPy's ``_decide_params_type``
  does (a typed parameter's dtype must match exactly, ``T`` must agree everywhere);
* ufuncs refuse ``out=...`` with TypeError, as CuPy's do;
* ``RawModule`` (warp shuffles) and cuBLAS are not imitated: those paths raise.

It is registered nowhere and never named ``cuda``: the backend under test is the real
``CupyBackend`` class handed this module instead of ``cupy``.
"""
from __future__ import annotations

import ctypes
import math
import types

import numpy

import cuda_host as H

_LIB = {}


def host_library(folder):
    """Build (once per process) the g++ library of every kernel body."""
    if "lib" not in _LIB:
        _LIB["lib"] = H.build_host_elementwise(folder)
    return _LIB["lib"]


class Array(numpy.ndarray):
    """numpy memory with the attributes the backend reads from ``cupy.ndarray``."""

    @property
    def device(self):
        return types.SimpleNamespace(id=0)

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.__array_interface__["data"][0])

    def get(self):
        return numpy.array(self)


def _wrap(value):
    if isinstance(value, numpy.ndarray) and not isinstance(value, Array):
        return value.view(Array)
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    return value


def _plain(value):
    return value.view(numpy.ndarray) if isinstance(value, Array) else value


class UFunc:
    """A numpy ufunc that, like CuPy's, rejects ``out=...``."""

    def __init__(self, ufunc):
        self.ufunc, self.nin, self.__name__ = ufunc, ufunc.nin, ufunc.__name__

    def __call__(self, *args, out=None):
        if out is ...:
            raise TypeError("Unsupported type <class 'ellipsis'>")
        args = [_plain(a) for a in args]
        with numpy.errstate(all="ignore"):        # CuPy never warns
            if out is None:
                return _wrap(numpy.asarray(self.ufunc(*args)))
            self.ufunc(*args, out=_plain(out))
        return out


_C_DTYPE = {"long long": numpy.int64, "int": numpy.int32, "bool": numpy.bool_}


class ElementwiseKernel:
    """Runs the backend's body of the same name through the host library."""

    folder = None        # set by the fixture that builds the library

    def __init__(self, in_params, out_params, body, name, preamble=""):
        for sources, key in H.ELEMENTWISE:
            if sources[key][3] == name:
                assert sources[key][:3] == (in_params, out_params, body), name
                self.sources, self.key = sources, key
                break
        else:
            raise AssertionError(f"stand-in: no host build of kernel {name}")
        self.name = name

    def __call__(self, *args, size=None):
        sources, key = self.sources, self.key
        T = None
        for (ctype, var, raw, is_out, scalar), arg in zip(H.kernel_params(sources, key, "T"),
                                                          args):
            if ctype == "T" and isinstance(arg, numpy.ndarray):
                if T is not None and arg.dtype != T:
                    raise TypeError(f"Type is mismatched. {var} {arg.dtype} {T} T")
                T = arg.dtype
        ctype = {numpy.dtype("float32"): "float", numpy.dtype("float64"): "double",
                 None: "float"}.get(T)
        if key in H.INTEGER_KERNELS:
            ctype = {numpy.dtype("int64"): "long long", numpy.dtype("int32"): "int",
                     numpy.dtype("uint64"): "unsigned long long",
                     numpy.dtype("int8"): "signed char", numpy.dtype("bool"): "bool"}.get(T, ctype)
            if ctype not in H.ctypes_for(key):
                raise NotImplementedError(f"stand-in: no {ctype} build of {self.name}")
        if ctype is None:
            raise NotImplementedError(f"stand-in runs {self.name} for float32/64 only, not {T}")
        params = H.kernel_params(sources, key, ctype)
        n_in = sum(1 for p in params if not p[3])
        if len(args) not in (n_in, len(params)):
            raise TypeError(f"{self.name}: wrong number of arguments {len(args)}")
        arrays = [a for p, a in zip(params, args) if not p[2] and isinstance(a, numpy.ndarray)]
        shape = numpy.broadcast_shapes(*(a.shape for a in arrays)) if arrays else (size,)
        n = math.prod(shape)
        c_args, writeback, new, keep = [], [], [], []     # keep: copies alive until the call
        for i, (typ, var, raw, is_out, scalar) in enumerate(params):
            dtype = numpy.dtype(T if typ == ctype else _C_DTYPE[typ])
            arg = args[i] if i < len(args) else None
            if raw:
                assert isinstance(arg, numpy.ndarray), f"{var}: raw needs an array"
                if arg.dtype != dtype:
                    raise TypeError(f"Type is mismatched. {var} {arg.dtype} {dtype}")
                assert arg.flags.c_contiguous, f"{self.name}: raw {var} is not contiguous"
                c_args.append(ctypes.c_void_p(arg.__array_interface__["data"][0]))
            elif scalar:
                assert not isinstance(arg, numpy.ndarray) or arg.ndim == 0, var
                c_args.append(ctypes.c_longlong(int(arg)))
            else:
                if isinstance(arg, numpy.ndarray) and typ != ctype and arg.dtype != dtype:
                    raise TypeError(f"Type is mismatched. {var} {arg.dtype} {dtype}")
                if arg is None:
                    buf = numpy.zeros(shape, dtype)
                    new.append(buf)
                else:
                    buf = numpy.ascontiguousarray(numpy.broadcast_to(
                        numpy.asarray(_plain(arg), dtype), shape)).copy()
                    if is_out:
                        writeback.append((arg, buf))
                keep.append(buf)
                c_args.append(ctypes.c_void_p(buf.__array_interface__["data"][0]))
        lib = host_library(self.folder)
        getattr(lib, f"{self.name}_{H.SUFFIX[ctype]}")(*c_args, ctypes.c_longlong(n))
        for arg, buf in writeback:
            arg[...] = buf
        outs = [_wrap(b) for b in new] or [a for a, _ in writeback]
        non_raw_outs = [p for p in params if p[3] and not p[2]]
        if not non_raw_outs:
            return None
        return outs[0] if len(outs) == 1 else tuple(outs)


class _Device:
    def __init__(self, index=0):
        self.id = index

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass


class _Pool:
    def malloc(self, size):
        raise AssertionError("the stand-in allocates through numpy")

    def used_bytes(self):
        return 0

    total_bytes = used_bytes

    def free_all_blocks(self):
        pass


class _RawModule:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("stand-in: raw CUDA modules (warp shuffles) need a GPU")


def _function(fn):
    def call(*args, **kwargs):
        return _wrap(fn(*[_plain(a) for a in args],
                        **{k: _plain(v) for k, v in kwargs.items()}))
    call.__name__ = getattr(fn, "__name__", "fn")
    return call


class StandinCupy(types.ModuleType):
    """``import cupy`` as far as the cuda backend's glue goes."""

    def __init__(self):
        super().__init__("cupy_standin")
        self.ndarray = Array
        self.ElementwiseKernel = ElementwiseKernel
        self.RawModule = _RawModule
        pool = _Pool()
        self.get_default_memory_pool = lambda: pool
        self.get_default_pinned_memory_pool = lambda: pool
        runtime = types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0)
        self.cuda = types.SimpleNamespace(runtime=runtime, Device=_Device,
                                          set_allocator=lambda fn: None)
        self.asnumpy = lambda x: numpy.array(_plain(x))

    def __getattr__(self, name):
        obj = getattr(numpy, name)
        if isinstance(obj, numpy.ufunc):
            return UFunc(obj)
        if isinstance(obj, type) or not callable(obj):
            return obj
        return _function(obj)
