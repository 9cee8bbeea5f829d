"""One implementation of the backend contract for any numpy-compatible array module (``xp``).

numpy and cupy share it (Chainer's ``get_array_module`` idea): ``backends/numpy.py`` and
``backends/cupy/`` bind ``xp`` and add what differs (runtime, device handling, kernels).
No autograd and no argument checking here: the frontend validated everything already.
"""
from .backend import ArrayModuleBackend

__all__ = ["ArrayModuleBackend"]
