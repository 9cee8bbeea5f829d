"""plugrad's asv suites. Every suite is parametrized by the backends in plugrad's registry.

CPU numbers are single-threaded unless the caller says otherwise: the thread variables are set
here, before numpy (and its BLAS) or torch is imported, so plugrad's cpu rows and the PyTorch
ratios compare one thread with one thread. Export OMP_NUM_THREADS etc. to override.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
