"""The cpu backend's malloc policy (backends/host_memory.py)."""
import ctypes.util
import os
import subprocess
import sys

import pytest

GLIBC = ctypes.util.find_library("c") is not None and os.uname().sysname == "Linux"


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


PROBE = """
import ctypes, resource, numpy, plugrad
plugrad.ones(1)  # loads the cpu backend
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
start = faults()
for _ in range(20):  # as a training step: many temporaries alive at once, then all freed
    live = [numpy.ones(3 << 17) for _ in range(8)]  # 8 x 3 MiB of float64
    del live
print(faults() - start)
"""


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_freed_arrays_are_reused_without_page_faults():
    kept = int(_run(PROBE).stdout.split()[-1])
    returned = int(_run(PROBE, PLUGRAD_KEEP_FREED_MEMORY="0").stdout.split()[-1])
    # 160 arrays of 3 MiB fault ~768 pages each when glibc gives the freed heap back; kept,
    # only the first round faults
    assert returned > 100 * 768, returned
    assert kept < 20 * 768, kept


def test_opt_out_leaves_malloc_alone():
    from plugrad.backends.host_memory import keep_freed_memory
    old = os.environ.get("PLUGRAD_KEEP_FREED_MEMORY")
    os.environ["PLUGRAD_KEEP_FREED_MEMORY"] = "0"
    try:
        assert keep_freed_memory() is False
    finally:
        if old is None:
            del os.environ["PLUGRAD_KEEP_FREED_MEMORY"]
        else:
            os.environ["PLUGRAD_KEEP_FREED_MEMORY"] = old
