"""plugrad.testing.assert_close against torch.testing.assert_close: same outcome, same
exception type and the same message for the same comparison."""
from __future__ import annotations

import pytest
import torch

import plugrad

nan = float("nan")
CASES = [
    (lambda T: (T.tensor([1., 2., 3.]), T.tensor([1., 2.5, 3.])), {}),
    (lambda T: (T.tensor([1., 2.]), T.tensor([1., 2.], dtype=T.float64)), {}),
    (lambda T: (T.tensor([1., 2.]), T.tensor([1., 2.], dtype=T.float64)), {"check_dtype": False}),
    (lambda T: (T.tensor([1., 2.]), T.tensor([1., 2., 3])), {}),
    (lambda T: (T.tensor([1, 2]), T.tensor([1, 3])), {}),
    (lambda T: (1.0, 1.1), {}),
    (lambda T: (1.0, 1.0 + 1e-9), {}),
    (lambda T: ([T.tensor(1.)], [T.tensor(2.)]), {}),
    (lambda T: (T.tensor([nan]), T.tensor([nan])), {}),
    (lambda T: (T.tensor([nan]), T.tensor([nan])), {"equal_nan": True}),
    (lambda T: (T.tensor(1.), T.tensor(1.5)), {}),
    (lambda T: (T.tensor(1), T.tensor(3)), {}),
    (lambda T: (T.tensor([[1., 2.], [3., 4.]]), T.tensor([[1., 2.], [3., 4.1]])),
     {"rtol": 0.01, "atol": 0}),
    (lambda T: (T.tensor([1., 2.]), T.tensor([1., 2.000001])), {}),
    (lambda T: (T.tensor([1., 2.], dtype=T.float16), T.tensor([1., 2.002], dtype=T.float16)),
     {}),
    (lambda T: ({"a": T.tensor([1.])}, {"a": T.tensor([2.])}), {}),
    (lambda T: (T.tensor([1.]), [1.0]), {}),
    (lambda T: (T.tensor([1.]), T.tensor([1.])), {"rtol": 0.1}),
]


def _outcome(lib, make, kw):
    actual, expected = make(lib)
    try:
        lib.testing.assert_close(actual, expected, **kw)
    except Exception as exc:  # the type and the text are what is compared
        return type(exc).__name__, str(exc).replace("torch.", "").replace("Size([", "[")
    return "ok", ""


@pytest.mark.parametrize("index", range(len(CASES)))
def test_assert_close_matches_torch(index):
    make, kw = CASES[index]
    got, want = _outcome(plugrad, make, kw), _outcome(torch, make, kw)
    assert got[0] == want[0], (got, want)
    if want[0] == "AssertionError":
        assert got[1].replace("])", "]") == want[1].replace("])", "]")
