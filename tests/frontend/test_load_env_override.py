"""torch.load's environment overrides of weights_only, checked against torch side by side.

Programs that save their own numpy data with torch.save (pytorch/examples'
time_sequence_prediction) run on torch >= 2.6 only with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1.
"""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

import plugrad

FORCE, FORCE_NO = "TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


@pytest.fixture
def numpy_file(tmp_path, monkeypatch):
    monkeypatch.delenv(FORCE, raising=False)
    monkeypatch.delenv(FORCE_NO, raising=False)
    path = tmp_path / "data.pt"
    torch.save(np.arange(6.0).reshape(2, 3), path)
    return path


def _outcome(lib, path, **kw):
    """('ok', value, warning texts) or ('raises', exception type, '')."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = lib.load(path, **kw)
        except Exception as err:  # noqa: BLE001 -- the type is what is compared
            return "raises", type(err), ""
    texts = [str(w.message) for w in caught if "weights_only" in str(w.message)]
    return "ok", value, texts


def test_default_refuses_numpy_data_as_torch(numpy_file):
    assert _outcome(torch, numpy_file)[:2] == ("raises", pickle.UnpicklingError)
    assert _outcome(plugrad, numpy_file)[:2] == ("raises", pickle.UnpicklingError)


@pytest.mark.parametrize("value", ["1", "true", "YES", "y"])
def test_force_no_weights_only_loads_with_torch_warning(numpy_file, monkeypatch, value):
    monkeypatch.setenv(FORCE_NO, value)
    got, want = _outcome(plugrad, numpy_file), _outcome(torch, numpy_file)
    assert got[0] == want[0] == "ok"
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2] and len(got[2]) == 1


def test_force_no_weights_only_keeps_an_explicit_true(numpy_file, monkeypatch):
    monkeypatch.setenv(FORCE_NO, "1")
    assert _outcome(torch, numpy_file, weights_only=True)[:2] == ("raises", pickle.UnpicklingError)
    assert _outcome(plugrad, numpy_file, weights_only=True)[:2] == ("raises",
                                                                     pickle.UnpicklingError)


def test_force_weights_only_overrides_an_explicit_false(numpy_file, monkeypatch):
    monkeypatch.setenv(FORCE, "1")
    assert _outcome(torch, numpy_file, weights_only=False)[:2] == ("raises",
                                                                    pickle.UnpicklingError)
    assert _outcome(plugrad, numpy_file, weights_only=False)[:2] == ("raises",
                                                                      pickle.UnpicklingError)


@pytest.mark.parametrize("value", ["0", "no", ""])
def test_false_values_change_nothing(numpy_file, monkeypatch, value):
    monkeypatch.setenv(FORCE_NO, value)
    assert _outcome(plugrad, numpy_file)[:2] == ("raises", pickle.UnpicklingError)
    np.testing.assert_array_equal(plugrad.load(numpy_file, weights_only=False),
                                  np.arange(6.0).reshape(2, 3))


def test_both_set_is_torch_runtime_error(numpy_file, monkeypatch):
    monkeypatch.setenv(FORCE, "1")
    monkeypatch.setenv(FORCE_NO, "1")
    with pytest.raises(RuntimeError) as want:
        torch.load(numpy_file)
    with pytest.raises(RuntimeError) as got:
        plugrad.load(numpy_file)
    assert str(got.value) == str(want.value)
