"""``torch.autocast``: ops of torch's lists run in a lower-precision dtype inside the region.

State is per thread and per device type (as torch's). The casting wrappers (:func:`_wrap`)
are installed on the public entry points -- ``torch.X``, ``Tensor.X``, ``F.X`` and the conv
layers' functions -- when the first region opens anywhere and removed when the last closes,
so no op pays for autocast outside a region; inside, a wrapper reads its thread's state, so
other threads see their own (usually disabled) autocast.
"""
from __future__ import annotations

import functools
import threading
import warnings

from .. import _dtype as D
from .policy import ALL_NAMES, DEFAULT_DTYPE, FP32, LOWER, POLICY, PROMOTE

_local = threading.local()
_install_lock = threading.Lock()
_open_regions = [0]
_saved = []           # (owner, name, original) while wrappers are installed


def _state():
    s = getattr(_local, "s", None)
    if s is None:
        s = _local.s = {kind: [False, D.ALIASES.get(dt) or getattr(D, dt)]
                        for kind, dt in DEFAULT_DTYPE.items()}
    return s


def _kind(device_type) -> str:
    if device_type is None:
        return "cuda"
    kind = str(device_type).split(":")[0]
    if kind not in POLICY:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{kind}'")
    return kind


def is_autocast_enabled(device_type=None) -> bool:
    """Whether autocast is on for ``device_type`` (torch: no argument means cuda)."""
    return _state()[_kind(device_type)][0]


def set_autocast_enabled(*args) -> None:
    """``set_autocast_enabled(enabled)`` (cuda) or ``set_autocast_enabled(device_type, enabled)``."""
    kind, enabled = ("cuda", args[0]) if len(args) == 1 else (_kind(args[0]), args[1])
    _state()[kind][0] = bool(enabled)
    _sync_install()


def get_autocast_dtype(device_type: str) -> D.dtype:
    """The lower-precision dtype autocast uses on ``device_type`` ('cpu', 'cuda', ...)."""
    return _state()[_kind(device_type)][1]


def set_autocast_dtype(device_type: str, dtype: D.dtype) -> None:
    """Set the dtype autocast regions on ``device_type`` use when they name none."""
    _state()[_kind(device_type)][1] = dtype


def is_autocast_cpu_enabled() -> bool:
    """Deprecated spelling of ``is_autocast_enabled("cpu")``."""
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype() -> D.dtype:
    """Deprecated spelling of ``get_autocast_dtype("cpu")``."""
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype() -> D.dtype:
    """Deprecated spelling of ``get_autocast_dtype("cuda")``."""
    return get_autocast_dtype("cuda")


def is_autocast_available(device_type: str) -> bool:
    return str(device_type).split(":")[0] in POLICY


def clear_autocast_cache() -> None:
    """plugrad keeps no cast-weight cache (each cast is recomputed), so there is nothing to drop."""


# --------------------------------------------------------------------------- casting

def _device_kind(args, kwargs):
    from .._tensor import Tensor
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            return a._device.type
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor):
                    return b._device.type
    return None


def _cast_all(value, fn):
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
        return type(value)(_cast_all(v, fn) for v in value)
    return value


def _floats(args, kwargs):
    from .._tensor import Tensor
    out = []
    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if isinstance(t, Tensor) and t._dtype.is_floating_point:
                out.append(t._dtype)
    return out


def _wrap(name, fn):
    @functools.wraps(fn)
    def autocast_op(*args, **kwargs):
        kind = _device_kind(args, kwargs)
        state = _state().get(kind) if kind is not None else None
        if state is None or not state[0]:
            return fn(*args, **kwargs)
        policy = POLICY[kind].get(name)
        if policy == LOWER:
            target = state[1]
            cast = (lambda t: t.to(target) if t._dtype.is_floating_point
                    and t._dtype is not target else t)
        elif policy == FP32:
            cast = (lambda t: t.to(D.float32) if t._dtype in (D.float16, D.bfloat16) else t)
        elif policy == PROMOTE:
            kinds = _floats(args, kwargs)
            if len(set(kinds)) < 2:
                return fn(*args, **kwargs)
            widest = max(kinds, key=lambda d: (d.itemsize, d is D.float16))
            cast = (lambda t: t.to(widest) if t._dtype.is_floating_point else t)
        else:
            return fn(*args, **kwargs)
        args = tuple(_cast_all(a, cast) for a in args)
        kwargs = {k: _cast_all(v, cast) for k, v in kwargs.items()}
        # the op itself runs outside autocast, as torch's kernels do after the cast
        state[0] = False
        try:
            return fn(*args, **kwargs)
        finally:
            state[0] = True
    autocast_op._autocast_original = fn
    return autocast_op


def _targets():
    import plugrad
    from .._tensor import Tensor
    from ..nn import functional as F
    from ..nn.modules import conv
    owners = [plugrad, Tensor, F]
    for owner in owners:
        for name in ALL_NAMES:
            fn = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name,
                                                                                    None)
            if fn is not None and callable(fn):
                yield owner, name, name, fn
    for cls in vars(conv).values():
        if isinstance(cls, type) and cls.__dict__.get("_fn") is not None:
            fn = cls.__dict__["_fn"].__func__ if isinstance(cls.__dict__["_fn"], staticmethod) \
                else cls.__dict__["_fn"]
            yield cls, "_fn", fn.__name__, fn


def _sync_install():
    """Install the wrappers while any thread has autocast on; remove them when none has."""
    with _install_lock:
        active = _open_regions[0] > 0 or any(v[0] for v in _state().values())
        if active and not _saved:
            for owner, attr, name, fn in list(_targets()):
                original = owner.__dict__[attr] if isinstance(owner, type) else fn
                wrapped = _wrap(name, fn)
                setattr(owner, attr, staticmethod(wrapped) if attr == "_fn" else wrapped)
                _saved.append((owner, attr, original))
        elif not active and _saved:
            for owner, attr, original in reversed(_saved):
                setattr(owner, attr, original)
            _saved.clear()


class autocast:
    """``with torch.autocast('cuda'):`` / ``@torch.autocast('cpu', dtype=torch.float16)``."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        from .._device import device
        device(device_type)                      # unknown device types: torch's RuntimeError
        self.device = _kind(device_type)
        self.fast_dtype = dtype if dtype is not None else get_autocast_dtype(self.device)
        self._enabled = bool(enabled)
        if self._enabled:
            self._enabled = self._check_supported()

    def _check_supported(self) -> bool:
        kind, dt = self.device, self.fast_dtype
        if kind == "cpu" and dt not in (D.bfloat16, D.float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", stacklevel=3)
            return False
        if kind != "cpu" and dt not in (D.bfloat16, D.float16):
            warnings.warn(f"In {kind} autocast, but the target dtype is not supported. "
                          f"Disabling autocast.\n{kind} Autocast only supports dtypes of "
                          f"torch.float16, torch.bfloat16 currently.", stacklevel=3)
            return False
        from .._device import tensor_device
        try:
            table = tensor_device(kind).ops
        except RuntimeError:
            if kind == "cuda":
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", stacklevel=3)
            else:
                warnings.warn(f"{kind} is not available. Disabling autocast.", stacklevel=3)
            return False
        if not table.supports("cast", dt.name):
            warnings.warn(f"In {kind} autocast, but the '{table.backend_name}' backend has no "
                          f"{dt} arithmetic. Disabling autocast.", stacklevel=3)
            return False
        return True

    def __enter__(self):
        state = _state()[self.device]
        self._prev = list(state)
        if self._enabled:
            state[:] = [True, self.fast_dtype]
        else:
            state[0] = False
        if self._enabled:
            with _install_lock:
                _open_regions[0] += 1
            _sync_install()
        return self

    def __exit__(self, *exc):
        _state()[self.device][:] = self._prev
        if self._enabled:
            with _install_lock:
                _open_regions[0] -= 1
            _sync_install()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def decorated(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return decorated


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorate a custom Function's forward: run it with ``cast_inputs`` (autocast off) or
    under the caller's autocast state."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        if cast_inputs is None or not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        cast = (lambda t: t.to(cast_inputs) if t._dtype.is_floating_point else t)
        args = tuple(_cast_all(a, cast) for a in args)
        kwargs = {k: _cast_all(v, cast) for k, v in kwargs.items()}
        with autocast(device_type, enabled=False):
            return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorate a custom Function's backward (it runs with autocast off, as torch's)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type, enabled=False):
            return bwd(*args, **kwargs)
    return decorate_bwd
