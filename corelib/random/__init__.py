"""Host-side random streams, bit-identical to torch 2.13's CPU generator.

Every random op draws here, on the host, and uploads the numpy result -- unless the target
device's backend has the ``mt19937_generate`` kernel, which continues this same stream on the
device (``device``: where the state lives, and the transforms as kernel parameters).  Either
way ``cpu``, ``cuda`` and ``opencl`` see the same numbers as ``torch`` on CPU for a seed.

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
uses on x86), ``fma`` (exact fused multiply-add, since torch's kernels are compiled with FMA),
``device`` (the state's placement for device generation).

What is bit-identical (values and stream position, checked against torch 2.13 by
tests/frontend/test_random_streams.py): every method above, for all listed dtypes, any size and
shape, any seed, any call order, and get_state/set_state in both directions.  Limits:

* torch's float32/float16 ``randn`` of 16+ elements runs avx_mathfun's log/sincos on x86-64
  wheels (AVX2 and AVX512 kernels alike); a torch without AVX2 (or not on x86) uses libm's
  logf/cosf/sinf there instead, and those values differ in the last bit from ours;
* float64 ``randn`` of 16+ elements calls libm through ``math``: it matches a torch that
  links the same libm (the same machine), and costs ~130 ms per million values;
* bfloat16 through ml_dtypes (drawn as torch does, in float32 like float16); no uint16/32/64;
* ``bernoulli`` with an array p outside [0, 1] raises before drawing; torch draws for
  the elements before the bad one first, so its stream position after the error differs;
* ``set_state`` refuses a hand-made state whose ``left``/``next`` disagree (torch never
  produces one, and numpy's MT19937 cannot express it);
* ``randperm`` for n >= 214748364 uses torch's inside-out branch in a Python loop:
  right values, minutes of time.
"""
import contextlib

from .engine import DEFAULT_SEED, STATE_SIZE
from .generator import HostGenerator

__all__ = ["HostGenerator", "DEFAULT_SEED", "STATE_SIZE", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng", "default_generator"]

# torch.random's functions, so ``torch.random.manual_seed(0)`` works with ``import plugrad as
# torch``: they act on plugrad's default generator (``plugrad._generator``, which imports this
# package -- hence the imports at call time).


def manual_seed(seed):
    """Seed the default generator (torch.random.manual_seed); returns it."""
    from .. import _generator
    return _generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the OS (torch.random.seed); returns the seed."""
    from .. import _generator
    return _generator.seed()


def initial_seed() -> int:
    """The default generator's initial seed (torch.random.initial_seed)."""
    from .. import _generator
    return _generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor (torch.random.get_rng_state)."""
    from .. import _generator
    return _generator.get_rng_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state (torch.random.set_rng_state)."""
    from .. import _generator
    _generator.set_rng_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Restore the random state on exit (torch.random.fork_rng). Every plugrad device draws
    from the one default generator, so ``devices`` and ``device_type`` change nothing."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def __getattr__(name):
    if name == "default_generator":
        from .. import _generator
        return _generator.default_generator
    raise AttributeError(f"module 'plugrad.random' has no attribute {name!r}")
