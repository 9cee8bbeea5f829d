"""Runs one frontend call on PyTorch and on plugrad and compares values and gradients.

The fuzz modules draw the inputs; :func:`check` does the rest: the same host arrays go to
``torch.tensor`` and ``plugrad.tensor(..., device=device)``, floating inputs require grad,
and then

* if torch raises, plugrad must raise the same exception type (and nothing else is checked)
  -- except for an out-of-range index on a device whose backend checks indices in its kernels
  (the contract's ``checks_indices``): there the call returns and reading its outputs raises
  the deferred RuntimeError, as torch's CUDA device-side asserts do;
* every output must match torch's in shape, dtype and values (nan where nan, the same
  infinities, finite values within ``ulps`` of torch's in the output dtype plus ``atol``;
  on cuda a float32 subnormal may be flushed to a zero of its sign, see
  ``helpers.flushes_subnormals``);
* with ``grad``, an upstream gradient drawn for each float output is back-propagated in
  both libraries and every input's ``.grad`` is compared the same way (``grad_ulps``) --
  unless torch's own backward raises (a torch bug for some mixed bool/half inputs).
"""
from __future__ import annotations

import inspect

import numpy as np
import plugrad
import torch
from fuzz_profiles import arrays, assert_same, quiet
from helpers import defers_index_checks, flushes_subnormals


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _call(fn, module, args):
    params = list(inspect.signature(fn).parameters)
    return fn(module, *args) if params and params[0] == "T" else fn(*args)


def _host(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)   # force: torch may hand back a ZeroTensor grad
    return t.detach().cpu().numpy() if isinstance(t, plugrad.Tensor) else t


def _compare(got, want, what, ulps, atol, signed_zero, flush=False):
    if not isinstance(want, torch.Tensor):
        assert not isinstance(got, plugrad.Tensor), f"{what}: torch gave {type(want)}"
        assert got == want or (got != got and want != want), f"{what}: {got!r} != {want!r}"
        return
    assert isinstance(got, plugrad.Tensor), f"{what}: expected a Tensor, got {type(got)}"
    assert tuple(got.shape) == tuple(want.shape), \
        f"{what}: shape {tuple(got.shape)} != torch {tuple(want.shape)}"
    assert repr(got.dtype) == str(want.dtype), f"{what}: dtype {got.dtype!r} != {want.dtype}"
    assert_same(_host(got), _host(want), ulps=ulps, atol=atol, signed_zero=signed_zero,
                flush_subnormals=flush, what=f"{what} vs torch: ")


def check(data, device, fn, inputs, *, grad=True, ulps=0, atol=0.0, grad_ulps=None,
          grad_atol=None, signed_zero=False, grad_signed_zero=False, empty_grads=True):
    """Run ``fn`` (``lambda x, y: ...`` or ``lambda T, x: T.op(x)``) on both libraries.

    :param inputs: host values: numpy arrays become tensors (float ones require grad when
        ``grad``); anything else (Python scalars, dims) is passed to both unchanged.
    :param empty_grads: compare gradients when every output is empty (a composite op
        multiplies the zero sum of an empty gradient by its partials, 0 * nan = nan, where
        torch's fused backward gives 0).
    :returns: torch's outputs (a flat list), or the exception torch raised.
    """
    def tensors(module):
        out = []
        for a in inputs:
            if isinstance(a, np.ndarray):
                rg = grad and a.dtype.kind == "f"
                t = torch.tensor(a) if module is torch else plugrad.tensor(a, device=device)
                out.append(t.requires_grad_(rg))
            else:
                out.append(a)
        return out
    tt, pt = tensors(torch), tensors(plugrad)
    flush = flushes_subnormals(device)
    try:
        with quiet():
            want = _flat(_call(fn, torch, tt))
    except Exception as exc:  # noqa: BLE001 -- the same failure is the expected behaviour
        try:
            out = _call(fn, plugrad, pt)
        except Exception as got:  # noqa: BLE001
            assert isinstance(got, type(exc)), \
                f"plugrad raised {type(got).__name__}({got}); torch {type(exc).__name__}({exc})"
            return exc
        if defers_index_checks(device) and "out of" in str(exc):
            try:
                for o in _flat(out):
                    _host(o)
            except RuntimeError as got:
                assert "index was out of bounds in an earlier op" in str(got), str(got)
                return exc
        raise AssertionError(f"plugrad did not raise; torch raised {type(exc).__name__}: {exc}")
    with quiet():
        got = _flat(_call(fn, plugrad, pt))
    assert len(got) == len(want), f"{len(got)} outputs, torch has {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        _compare(g, w, f"forward output {i}", ulps, atol, signed_zero, flush)
        if isinstance(w, torch.Tensor):
            assert g.requires_grad == w.requires_grad, \
                f"output {i}: requires_grad {g.requires_grad} != torch {w.requires_grad}"
    live = [i for i, w in enumerate(want) if isinstance(w, torch.Tensor) and w.requires_grad]
    if not empty_grads and all(want[i].numel() == 0 for i in live):
        live = []
    if not (grad and live):
        return want
    upstream = [data.draw(arrays(str(want[i].dtype).split(".")[1], tuple(want[i].shape),
                                 "finite_small"), label=f"grad of output {i}") for i in live]
    try:
        torch.autograd.backward([want[i] for i in live], [torch.tensor(u) for u in upstream])
    except RuntimeError:
        # torch's own backward fails for some mixed-dtype inputs (atan2(bool, half) negates
        # the bool); it has no answer to compare with there
        return want
    plugrad.autograd.backward([got[i] for i in live],
                              [plugrad.tensor(u, device=device) for u in upstream])
    for k, (p, t) in enumerate(zip(pt, tt)):
        if not isinstance(t, torch.Tensor) or not t.requires_grad:
            continue
        if t.grad is None:
            assert p.grad is None, f"input {k}: torch has no gradient, plugrad has one"
            continue
        assert p.grad is not None, f"input {k}: no gradient (torch has one)"
        _compare(p.grad, t.grad, f"gradient of input {k}", ulps if grad_ulps is None
                 else grad_ulps, atol if grad_atol is None else grad_atol, grad_signed_zero,
                 flush)
    return want
