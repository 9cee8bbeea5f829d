"""grid_sample and affine_grid against torch: every mode x padding mode x align_corners on
4-D input (bicubic included) and 5-D input (bilinear, nearest), grid points inside and outside
[-1, 1]; values, gradients of input and grid, grad_fn names, the align_corners warning and
errors."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, raises_like

_rng = np.random.default_rng(13)


def x(*shape):
    return _rng.standard_normal(shape).astype("float32")


def grid(*shape):
    return (_rng.random(shape) * 2.6 - 1.3).astype("float32")


IMAGE, GRID = x(2, 3, 5, 6), grid(2, 4, 7, 2)
VOLUME, GRID3 = x(2, 3, 4, 5, 6), grid(2, 3, 4, 2, 3)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_2d(device, mode, padding_mode, align_corners):
    check_fn(lambda T, a, g: T.nn.functional.grid_sample(a, g, mode, padding_mode,
                                                         align_corners),
             [IMAGE, GRID], device, atol=1e-4, name=f"{mode}/{padding_mode}/{align_corners}",
             grad_inputs=[0] if mode == "nearest" else [0, 1])


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d(device, mode, padding_mode, align_corners):
    check_fn(lambda T, a, g: T.nn.functional.grid_sample(a, g, mode, padding_mode,
                                                         align_corners),
             [VOLUME, GRID3], device, atol=1e-4, name=f"3d {mode}/{padding_mode}",
             grad_inputs=[0] if mode == "nearest" else [0, 1])


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(device, align_corners):
    check_fn(lambda T, t: T.nn.functional.affine_grid(t, (2, 3, 4, 5), align_corners),
             [x(2, 2, 3)], device, name="affine_grid 2d")
    check_fn(lambda T, t: T.nn.functional.affine_grid(t, (2, 3, 4, 1, 5), align_corners),
             [x(2, 3, 4)], device, name="affine_grid 3d")


def test_affine_then_sample(device):
    """The spatial-transformer pattern: gradients reach theta through the grid."""
    check_fn(lambda T, a, t: T.nn.functional.grid_sample(
        a, T.nn.functional.affine_grid(t, (2, 3, 4, 4), False), align_corners=False),
        [IMAGE, x(2, 2, 3)], device, atol=1e-4, name="stn")


def test_align_corners_warning():
    for fn in (lambda T: T.nn.functional.grid_sample(T.zeros(1, 1, 2, 2), T.zeros(1, 1, 1, 2)),
               lambda T: T.nn.functional.affine_grid(T.zeros(1, 2, 3), (1, 1, 2, 2))):
        seen = {}
        for lib in (torch, plugrad):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                fn(lib)
            seen[lib] = [str(m.message) for m in w if "align_corners" in str(m.message)]
        assert seen[plugrad] == seen[torch] and seen[torch]


ERRORS = [
    lambda T: T.nn.functional.grid_sample(T.zeros(2, 3, 4, 5), T.zeros(2, 3, 4, 2), mode="x",
                                          align_corners=False),
    lambda T: T.nn.functional.grid_sample(T.zeros(2, 3, 4, 5), T.zeros(2, 3, 4, 2),
                                          padding_mode="x", align_corners=False),
    lambda T: T.nn.functional.grid_sample(T.zeros(2, 3, 4, 5, 6), T.zeros(2, 3, 4, 5, 3),
                                          mode="bicubic", align_corners=False),
    lambda T: T.nn.functional.grid_sample(T.zeros(2, 3, 4, 5), T.zeros(3, 4, 2),
                                          align_corners=False),
    lambda T: T.nn.functional.grid_sample(T.zeros(2, 3, 4, 5), T.zeros(1, 3, 4, 2),
                                          align_corners=False),
    lambda T: T.nn.functional.grid_sample(T.zeros(2, 3, 4, 5), T.zeros(2, 3, 4, 1),
                                          align_corners=False),
    lambda T: T.nn.functional.grid_sample(T.zeros(2, 3, 4, 5), T.zeros(2, 3, 4, 2).double(),
                                          align_corners=False),
    lambda T: T.nn.functional.affine_grid(T.zeros(2, 2, 3), (2, 3, 4), align_corners=False),
    lambda T: T.nn.functional.affine_grid(T.zeros(2, 3, 3), (2, 3, 4, 5), align_corners=False),
    lambda T: T.nn.functional.affine_grid(T.zeros(2, 2, 3).long(), (2, 3, 4, 5),
                                          align_corners=False),
    lambda T: T.nn.functional.affine_grid(T.zeros(2, 2, 3), (2, 3, 0, 5), align_corners=False),
    lambda T: T.nn.functional.affine_grid(T.zeros(2, 3, 3), (2, 3, 4, 5, 3),
                                          align_corners=False),
    lambda T: T.nn.functional.affine_grid(T.zeros(2, 2, 3), (3, 3, 4, 5), align_corners=False),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like(lambda: ERRORS[i](torch), lambda: ERRORS[i](plugrad))
