"""Host-side random streams, bit-identical to torch 2.13's CPU generator.

Every random op on every device draws here, on the host, and uploads the numpy result, so
``cpu``, ``cuda`` and ``opencl`` see the same numbers as ``torch`` on CPU for the same seed.

API (all arrays are new, C-contiguous numpy arrays of ``shape``; dtype names are
``"float16" "float32" "float64" "int8" "int16" "int32" "int64" "uint8" "bool"``)::

    g = HostGenerator()                       # seed 67280421310721, as torch.Generator()
    g = HostGenerator(seed=None)              # seeded from the OS, as torch's default generator
    g.manual_seed(seed)                       # -2**63 <= seed < 2**64, negatives wrap (torch.Generator)
    g.seed() -> int;  g.initial_seed() -> int
    g.get_state() -> uint8[5056]              # torch.Generator.get_state()'s exact bytes
    g.set_state(state)                        # accepts torch's bytes; torch's errors
    g.random_bits(n, bits=32|64)              # raw random() / random64() draws
    g.uniform(shape, dtype, low=0.0, high=1.0)        # torch.rand, Tensor.uniform_
    g.normal(shape, dtype, mean=0.0, std=1.0)         # torch.randn, Tensor.normal_
    g.randint(low, high, shape, dtype="int64")        # torch.randint
    g.randperm(n, dtype="int64")                      # torch.randperm
    g.bernoulli(p, shape=None, dtype=None)            # float p: bernoulli_(p); array p: torch.bernoulli
    g.random_(shape, dtype, low=None, high=None)      # Tensor.random_
    g.clone()

Modules: ``engine`` (MT19937 state, seeding, byte layout), ``distributions`` / ``normal`` /
``integers`` (torch's transforms), ``avx_mathfun`` (the float32 log/sincos torch's randn
uses on x86), ``fma`` (exact fused multiply-add, since torch's kernels are compiled with FMA).

Matches torch's CPU kernels as built for x86-64 with AVX2/AVX512 (the PyPI wheels); a torch
built without AVX2 computes float32/float16 ``randn`` of 16+ elements with glibc's logf/sinf
instead, and those values differ in the last bit.
"""
from .engine import DEFAULT_SEED, STATE_SIZE
from .generator import HostGenerator

__all__ = ["HostGenerator", "DEFAULT_SEED", "STATE_SIZE"]
