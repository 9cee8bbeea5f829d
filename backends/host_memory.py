"""Host memory policy for the ``cpu`` backend: keep freed memory for reuse.

glibc hands every allocation over 128 KiB-32 MiB back to the kernel when it is freed, so the
next array of that size page-faults in again, one fault per 4 KiB page, zeroed by the kernel.
A training step allocates and frees hundreds of such temporaries: on the GPT of
``benchmarks/perf/models.py`` the faults were a third of the step (sys time 1.22 s of 4.75 s;
step 220 -> 147 ms with memory kept). Keeping freed memory is what a caching allocator does
(torch's CUDA allocator, jemalloc, tcmalloc): RSS stays at the high-water mark of the run.

``PLUGRAD_KEEP_FREED_MEMORY=0`` leaves glibc's defaults alone; other C libraries are untouched.
"""
from __future__ import annotations

import os

M_TRIM_THRESHOLD = -1           # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20       # allocations below this come from the reusable heap
TRIM_THRESHOLD = 1 << 30        # free memory at the heap's top kept up to this much


def keep_freed_memory():
    """Ask glibc to reuse freed memory instead of unmapping it. Returns True when it did;
    False where the C library is not glibc (no mallopt) or the variable opts out."""
    if os.environ.get("PLUGRAD_KEEP_FREED_MEMORY", "1") == "0":
        return False
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and
                    libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError, TypeError):
        return False
