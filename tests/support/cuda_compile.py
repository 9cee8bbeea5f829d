"""Compile CUDA C sources without a GPU: NVRTC from pip (``nvidia-cuda-nvrtc``), else nvcc.

CuPy compiles every kernel with NVRTC, adding ``-ftz=true`` and ``--std=c++17`` and targeting
the device's ``compute_XY`` (cupy/cuda/compiler.py, ``_compile_with_cache_cuda``); this module
compiles with the same options for an H100 (``compute_90``), so a source that fails here fails
there. NVRTC is a shared library only (no driver, no device needed): the test extra installs
it on Linux x86-64/aarch64, where a missing library fails the tests instead of skipping them.
"""
from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import platform
import shutil
import subprocess

CUPY_OPTIONS = ("--gpu-architecture=compute_90", "-ftz=true", "--std=c++17")
NVRTC_PLATFORM = platform.system() == "Linux" and platform.machine() in ("x86_64", "aarch64")


def _nvrtc_library():
    """The newest libnvrtc.so from the ``nvidia`` wheels on sys.path, else one the dynamic
    loader finds (a CUDA toolkit, as on a GPU machine with CuPy), or None."""
    spec = importlib.util.find_spec("nvidia")
    roots = list(spec.submodule_search_locations) if spec is not None else []
    found = sorted(path for root in roots
                   for path in glob.glob(os.path.join(root, "*", "lib", "libnvrtc.so*"))
                   if "builtins" not in os.path.basename(path))
    if found:
        return found[-1]
    for name in ("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return name
    return None


NVRTC_PATH = _nvrtc_library()
NVCC = shutil.which("nvcc")


def compiler_missing():
    """None when a compiler is here; else why not (a failure where pip's NVRTC should be)."""
    if NVRTC_PATH or NVCC:
        return None
    return "no NVRTC (pip install nvidia-cuda-nvrtc) and no nvcc"


def _nvrtc_compile(source, name):
    lib = ctypes.CDLL(NVRTC_PATH)
    prog = ctypes.c_void_p()
    rc = lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), f"{name}.cu".encode(),
                                0, None, None)
    assert rc == 0, f"nvrtcCreateProgram failed ({rc})"
    try:
        opts = (ctypes.c_char_p * len(CUPY_OPTIONS))(*(o.encode() for o in CUPY_OPTIONS))
        rc = lib.nvrtcCompileProgram(prog, len(CUPY_OPTIONS), opts)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        return rc, log.value.decode(errors="replace")
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


def compile_cuda(tmp_path, source, name):
    """Compile ``source``; assert it compiles without errors or warnings, naming ``name``."""
    if NVRTC_PATH:
        rc, log = _nvrtc_compile(source, name)
        assert rc == 0 and "warning" not in log, f"{name} does not compile (NVRTC):\n{log}"
        return
    assert NVCC, compiler_missing()
    path = tmp_path / f"{name}.cu"
    path.write_text(source)
    done = subprocess.run([NVCC, "-c", "-arch=sm_90", "-ftz=true", "--std=c++17", "-Werror",
                           "all-warnings", "-o", str(tmp_path / f"{name}.o"), str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"{name} does not compile (nvcc):\n{done.stderr}"


def require_compiler():
    """Fail where pip's NVRTC exists (the test extra installs it) but is missing; elsewhere,
    without nvcc either, skip."""
    import pytest
    missing = compiler_missing()
    if missing is None:
        return
    if NVRTC_PLATFORM:
        pytest.fail(f"{missing}: the test extra installs it on {platform.machine()} Linux")
    pytest.skip(missing)
