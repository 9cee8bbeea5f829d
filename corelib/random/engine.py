"""MT19937 state, torch-style seeding, raw draws and the 5056-byte state layout.

The engine mirrors ``at::mt19937`` (aten/src/ATen/core/MT19937RNGEngine.h) and
``at::CPUGeneratorImpl`` (aten/src/ATen/CPUGeneratorImpl.cpp); the twisting itself runs in
numpy's ``MT19937`` bit generator, which is the same recurrence, so draws cost numpy speed.

State mapping.  torch keeps ``left``/``next`` counters, numpy one ``pos``:
after a twist torch has ``left + next == 625``, numpy ``pos == next``; a freshly seeded
torch engine has ``left == 1, next == 0`` (twist before the first draw), which numpy
spells ``pos == 624``.  ``_pristine`` remembers that case so ``get_state`` can write
torch's exact bytes back.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["Engine", "STATE_SIZE", "DEFAULT_SEED"]

_N = 624
_SEED_MASK = (1 << 64) - 1
DEFAULT_SEED = 67280421310721  # c10::detail::default_rng_seed_val, torch.Generator().initial_seed()

# Byte layout of CPUGeneratorImplState (CPUGeneratorImpl.cpp), x86-64 alignment:
#   legacy_pod: u64 the_initial_seed | i32 left | i32 seeded | u64 next | u64 state[624]
#               | f64 normal_x | f64 normal_y | f64 normal_rho | i32 normal_is_valid | pad4
#   f32 next_float_normal_sample | bool is_next_float_normal_sample_valid | pad3
_STATE_DTYPE = np.dtype([
    ("the_initial_seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8"),
    ("state", "<u8", (_N,)), ("normal_x", "<f8"), ("normal_y", "<f8"), ("normal_rho", "<f8"),
    ("normal_is_valid", "<i4"), ("_pad0", "<i4"),
    ("next_float_normal_sample", "<f4"), ("is_next_float_normal_sample_valid", "u1"),
    ("_pad1", "u1", (3,)),
])
STATE_SIZE = _STATE_DTYPE.itemsize  # 5056, torch.get_rng_state().numel()
assert STATE_SIZE == 5056


def _unpack_seed(seed) -> int:
    """Seed as torch.Generator.manual_seed reads it: uint64, else int64 wrapped (torch/csrc/Generator.cpp)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _SEED_MASK:
        raise ValueError("Overflow when unpacking long long")
    return seed & _SEED_MASK


def _init_genrand(seed: int) -> np.ndarray:
    """Classic MT19937 init_genrand, as at::mt19937_engine::init_with_uint32 does it."""
    key = [seed & 0xFFFFFFFF]
    for j in range(1, _N):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


class Engine:
    """One MT19937 stream plus the two Box-Muller caches torch keeps in its generator."""

    __slots__ = ("_bits", "_initial_seed", "_pristine", "next_double_normal", "next_float_normal")

    def __init__(self, seed: int | None = DEFAULT_SEED) -> None:
        """Seeded like ``torch.Generator()`` (``default_rng_seed_val``); ``seed=None`` seeds from the OS."""
        self._bits = np.random.MT19937(0)
        if seed is None:
            self.seed()
        else:
            self.manual_seed(seed)

    # ------------------------------------------------------------------ seeding

    def manual_seed(self, seed: int) -> None:
        """Seed like ``torch.Generator.manual_seed``: -2**63 <= seed < 2**64, negatives wrap."""
        seed = _unpack_seed(seed)
        self._set_key(_init_genrand(seed), _N)
        self._initial_seed = seed
        self._pristine = True
        # set_current_seed resets both caches (CPUGeneratorImpl::set_current_seed)
        self.next_double_normal = None
        self.next_float_normal = None

    def seed(self) -> int:
        """Seed from the OS and return the seed: 64 bits of urandom, like c10::detail::getNonDeterministicRandom."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def _set_key(self, key: np.ndarray, pos: int) -> None:
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}

    # ------------------------------------------------------------------ device hand-off

    def words(self) -> tuple[np.ndarray, int]:
        """(the 624 state words as uint32, index of the next word; 624: twist first): what a
        device needs to continue the stream (``mt19937_generate``)."""
        st = self._bits.state["state"]
        return st["key"].astype(np.uint32), int(st["pos"])

    def load_words(self, key: np.ndarray, pos: int) -> None:
        """Take back the words a device advanced from :meth:`words` (after >= 1 draw there)."""
        self._set_key(np.asarray(key, np.uint32), pos)
        self._pristine = False

    # ------------------------------------------------------------------ raw draws

    def random32(self, n: int) -> np.ndarray:
        """``n`` successive ``CPUGeneratorImpl::random()`` values as uint32."""
        self._pristine = self._pristine and n == 0
        return self._bits.random_raw(n).astype(np.uint32)

    def random64(self, n: int) -> np.ndarray:
        """``n`` successive ``random64()`` values: (first draw << 32) | second draw."""
        self._pristine = self._pristine and n == 0
        raw = self._bits.random_raw(2 * n)
        return (raw[0::2] << np.uint64(32)) | raw[1::2]

    def unit_float(self, n: int) -> np.ndarray:
        """``uniform_real_distribution<float>(0, 1)``: 24 low bits of random() times 2**-24, float32."""
        self._pristine = self._pristine and n == 0
        raw = self._bits.random_raw(n)
        np.bitwise_and(raw, np.uint64(0xFFFFFF), out=raw)
        out = raw.astype(np.float32)
        out *= np.float32(2.0 ** -24)  # exact: a power of two
        return out

    def unit_double(self, n: int) -> np.ndarray:
        """``uniform_real_distribution<double>(0, 1)``: 53 low bits of random64() times 2**-53."""
        return (self.random64(n) & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0 ** -53

    # ------------------------------------------------------------------ state bytes

    def get_state(self) -> np.ndarray:
        """The generator state as the 5056 uint8 bytes ``torch.Generator.get_state()`` returns."""
        st = self._bits.state["state"]
        pos = int(st["pos"])
        rec = np.zeros((), dtype=_STATE_DTYPE)
        rec["the_initial_seed"] = self._initial_seed
        rec["seeded"] = 1
        if self._pristine:
            rec["left"], rec["next"] = 1, 0
        elif pos >= _N:
            rec["left"], rec["next"] = 1, _N
        else:
            rec["left"], rec["next"] = _N + 1 - pos, pos
        rec["state"] = st["key"]
        if self.next_double_normal is not None:
            rec["normal_is_valid"] = 1
            rec["normal_y"] = self.next_double_normal
        if self.next_float_normal is not None:
            rec["is_next_float_normal_sample_valid"] = 1
            rec["next_float_normal_sample"] = self.next_float_normal
        return np.frombuffer(rec.tobytes(), dtype=np.uint8).copy()

    def set_state(self, state: np.ndarray) -> None:
        """Load bytes from ``get_state`` here or from ``torch.get_rng_state()``; torch's checks and errors."""
        if not isinstance(state, np.ndarray):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(state).__name__}")
        if state.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if not state.flags.c_contiguous:
            raise RuntimeError("RNG state must be contiguous")
        if state.size != STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {STATE_SIZE} "
                               f"but found the input RNG state size to be {state.size}")
        rec = np.frombuffer(state.tobytes(), dtype=_STATE_DTYPE)[0]
        left, nxt = int(rec["left"]), int(rec["next"])
        # at::mt19937_engine::is_valid
        if not (rec["seeded"] != 0 and 0 < left <= _N and nxt <= _N):
            raise RuntimeError("Invalid mt19937 state")
        if left != 1 and left + nxt != _N + 1:
            # torch would read key[next:next+left-1] then twist; numpy's single `pos` cannot say that.
            raise RuntimeError(f"plugrad cannot represent an mt19937 state with left={left}, next={nxt}; "
                               f"torch itself only produces left + next == {_N + 1} or left == 1")
        # CPUGeneratorImplStateLegacy stores the key widened to uint64; the engine keeps 32 bits
        self._set_key(rec["state"].astype(np.uint32), _N if left == 1 else nxt)
        self._initial_seed = int(rec["the_initial_seed"])
        self._pristine = left == 1 and nxt == 0
        self.next_double_normal = float(rec["normal_y"]) if rec["normal_is_valid"] else None
        self.next_float_normal = (np.float32(rec["next_float_normal_sample"])
                                  if rec["is_next_float_normal_sample_valid"] else None)
