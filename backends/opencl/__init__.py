"""The ``opencl`` backend: hand-written OpenCL kernels through pyopencl, on any OpenCL device.

Registered through the ``plugrad.backends`` entry point. Importing this module is cheap;
pyopencl is imported by the probe behind ``is_available``/``device_count`` and by ``load``.

Devices: every device of every platform, GPUs and accelerators before CPUs, minus those that
cannot compile a trivial kernel (an OpenCL driver whose compiler does not know the CPU, say;
``list_devices()`` says why). ``PLUGRAD_OPENCL_PLATFORM`` restricts the choice to one
platform, by index or by a case-insensitive substring of its name or version (``pocl``,
``nvidia``, ``0``). ``opencl:N`` is the N-th usable device.
"""
from __future__ import annotations

import functools
import os

from ...plugins import BackendSpec, hookimpl

PLATFORM_ENV = "PLUGRAD_OPENCL_PLATFORM"

_INSTALL_HINT = ("pip install 'plugrad[opencl]' (with your GPU's OpenCL driver) or "
                 "'plugrad[pocl]' (PoCL: an OpenCL device on the CPU)")
_DRIVER_HINT = ("install your GPU vendor's OpenCL driver, or PoCL for the CPU: pip install "
                "'plugrad[pocl]' (or your distribution's pocl-opencl-icd on CPUs newer than "
                "its LLVM)")
_PROBE_SOURCE = "__kernel void probe(__global int* x) { x[get_global_id(0)] += 1; }"


def _compiles(cl, device):
    """True, or why a trivial kernel cannot be built and run on ``device``."""
    import numpy
    try:
        ctx = cl.Context([device])
        queue = cl.CommandQueue(ctx)
        buf = cl.Buffer(ctx, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR,
                        hostbuf=numpy.zeros(4, numpy.int32))
        cl.Program(ctx, _PROBE_SOURCE).build().probe(queue, (4,), None, buf)
        out = numpy.empty(4, numpy.int32)
        cl.enqueue_copy(queue, out, buf)
        return True if out.tolist() == [1, 1, 1, 1] else f"probe kernel computed {out.tolist()}"
    except Exception as exc:
        return compile_failure(exc)


def compile_failure(exc) -> str:
    """Why a device cannot compile kernels, with the remedy where one is known.

    pip's PoCL bundles an LLVM that may predate the CPU (AMD Zen 5 gives "unknown target CPU
    'generic'"); the distribution's PoCL is built against a newer one.
    """
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = next((ln for ln in lines if ln.startswith("error")), lines[0] if lines else "")
    reason = f"cannot compile kernels: {type(exc).__name__}: {detail}"
    if "unknown target cpu" in str(exc).lower():
        reason += (" -- this PoCL's LLVM does not know this CPU; install your distribution's "
                   "PoCL (apt-get install pocl-opencl-icd) and, with both installed, choose it "
                   f"with {PLATFORM_ENV}=<part of its version, e.g. debian>")
    return reason


def _cpu_key(cl, device):
    """What identifies a CPU across OpenCL drivers (two PoCL builds list the same CPU under
    different names: 'pthread-haswell-AMD EPYC' and 'pthread-AMD EPYC'); None for others."""
    try:
        if not device.type & cl.device_type.CPU:
            return None
        return (device.vendor_id, device.max_compute_units, device.global_mem_size,
                device.max_clock_frequency)
    except Exception:  # a driver that cannot answer: never merged with another device
        return None


def drop_duplicate_cpus(records):
    """Mark a usable CPU device unusable when an earlier usable record is the same CPU (one
    CPU seen through two ICDs, pip's PoCL and the distribution's, would be opencl:0 and
    opencl:1 sharing the same cores)."""
    first = {}
    for r in records:
        key = r.get("cpu_key")
        if not r["usable"] or key is None:
            continue
        if key in first:
            other = first[key]
            r["usable"] = False
            r["reason"] = (f"the same CPU as {other['name']} on {other['platform_version']}, "
                           f"listed once; {PLATFORM_ENV} chooses the driver")
        else:
            first[key] = r


@functools.lru_cache(maxsize=None)
def _probe():
    """(usable device records, all device records, reason when none is usable)."""
    try:
        import pyopencl as cl
    except Exception as exc:  # ImportError, or a broken ICD loader raising at import
        return (), (), (f"pyopencl not importable: {type(exc).__name__}: {exc}; install it: "
                         f"{_INSTALL_HINT}")
    try:
        platforms = cl.get_platforms()
    except Exception as exc:  # pyopencl raises when the ICD loader finds no platform
        return (), (), (f"no OpenCL platform found: {type(exc).__name__}: {exc}; "
                         f"{_DRIVER_HINT}")
    if not platforms:
        return (), (), f"no OpenCL platform found; {_DRIVER_HINT}"
    choice = os.environ.get(PLATFORM_ENV, "").strip()
    if choice:
        chosen = [(i, p) for i, p in enumerate(platforms)
                  if choice == str(i) or choice.lower() in f"{p.name} {p.version}".lower()]
        if not chosen:
            names = "; ".join(f"{i}: {p.name.strip()} ({p.version.strip()})"
                              for i, p in enumerate(platforms))
            return (), (), f"{PLATFORM_ENV}={choice!r} matches no OpenCL platform ({names})"
    else:
        chosen = list(enumerate(platforms))
    records = []
    for pi, platform in chosen:
        try:
            devices = platform.get_devices()
        except Exception:  # a platform with no devices raises DEVICE_NOT_FOUND
            devices = []
        for device in devices:
            rank = 0 if device.type & cl.device_type.GPU else \
                1 if device.type & cl.device_type.ACCELERATOR else 2
            records.append({"name": device.name.strip(), "platform": platform.name.strip(),
                            "platform_version": platform.version.strip(),
                            "platform_index": pi, "type": cl.device_type.to_string(device.type),
                            "fp64": "cl_khr_fp64" in device.extensions, "rank": rank,
                            "device": device, "cpu_key": _cpu_key(cl, device)})
    records.sort(key=lambda r: (r["rank"], r["platform_index"]))
    for r in records:
        ok = _compiles(cl, r["device"])
        r["usable"], r["reason"] = ok is True, (None if ok is True else ok)
    drop_duplicate_cpus(records)
    usable = []
    for r in records:
        r["index"] = len(usable) if r["usable"] else None
        if r["usable"]:
            usable.append(r)
    if not records:
        return (), (), "no OpenCL device found on platforms " + ", ".join(
            p.name.strip() for _, p in chosen)
    if not usable:
        return (), tuple(records), "no usable OpenCL device: " + "; ".join(
            f"{r['name']} on {r['platform_version']}: {r['reason']}" for r in records)
    return tuple(usable), tuple(records), None


def list_devices():
    """Every OpenCL device seen: index (None if unusable), name, platform, type, fp64, reason."""
    _, records, _ = _probe()
    keys = ("index", "name", "platform", "platform_version", "type", "fp64", "usable", "reason")
    return [{k: r[k] for k in keys} for r in records]


def is_available():
    usable, _, reason = _probe()
    return True if usable else reason


def device_count():
    return len(_probe()[0])


def load():
    usable, _, reason = _probe()
    if not usable:
        raise RuntimeError(reason)
    from .backend import OpenCLBackend
    return OpenCLBackend([r["device"] for r in usable])


@hookimpl
def plugrad_backends():
    yield BackendSpec(name="opencl", load=load, priority=50, aliases=("cl",),
                      is_available=is_available, device_count=device_count,
                      description="hand-written OpenCL kernels through pyopencl "
                                  "(GPUs, or CPUs through PoCL)")
