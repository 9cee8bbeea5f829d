"""The cpu backend's float32 erf: refit its two polynomials and time it.

    python benchmarks/perf/erf_float32.py        (needs scipy for the refit, torch for timing)

The fit: least squares on 4,000 Chebyshev nodes, erf(x)/x as a degree-6 polynomial in x*x on
[0, 1] (weighted for relative error) and log(erfc(t)) as a degree-8 polynomial in t - 2.5 on
[1, 4]; the printed coefficients must equal backends/xp/special.py's ERF_OVER_X and LOG_ERFC.
"""
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy  # noqa: E402
from numpy.polynomial import polynomial  # noqa: E402

from plugrad.backends.xp import special  # noqa: E402


def refit():
    import scipy.special
    s = (numpy.cos(numpy.linspace(0, numpy.pi, 4000)) + 1) / 2
    x = numpy.sqrt(s)
    ratio = numpy.where(x > 0, scipy.special.erf(x) / numpy.where(x > 0, x, 1),
                        2 / numpy.sqrt(numpy.pi))
    near = polynomial.polyfit(s, ratio, 6, w=1 / ratio)
    t = (numpy.cos(numpy.linspace(0, numpy.pi, 4000)) + 1) / 2 * 3 + 1
    far = polynomial.polyfit(t - special.LOG_ERFC_CENTER, numpy.log(scipy.special.erfc(t)), 8)
    return near, far


def best_ms(fn, repeat=30):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main():
    near, far = refit()
    print("refit equals the shipped coefficients:",
          numpy.allclose(near, special.ERF_OVER_X, rtol=1e-12, atol=0),
          numpy.allclose(far, special.LOG_ERFC, rtol=1e-12, atol=0))
    import torch
    torch.set_num_threads(1)
    for n in (4096, 12 * 64 * 512, 4_000_000):
        x = (numpy.random.default_rng(0).standard_normal(n) * 2).astype(numpy.float32)
        xt = torch.from_numpy(x)
        print(f"erf, {n} float32: polynomials {best_ms(lambda: special.erf_float32(numpy, x)):.3f}"
              f" ms, fdlibm intervals {best_ms(lambda: special.erf(numpy, x)):.3f} ms,"
              f" torch {best_ms(lambda: torch.erf(xt)):.3f} ms")


if __name__ == "__main__":
    main()
