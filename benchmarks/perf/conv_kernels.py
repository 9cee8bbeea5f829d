"""conv2d kernels of the cpu backend against torch, one thread, best of N, interleaved.

    python benchmarks/perf/conv_kernels.py [--repeat 15] [--budgets 65536,262144,1048576]

Rows: forward, input grad and weight grad for a few shapes (the bench row, the small CNN's
layers, a ResNet-like layer, strided/grouped/depthwise cases); columns: torch (oneDNN), the
cpu backend's kernel at each column-buffer budget, and the as_strided + tensordot kernels the
backend used before (kept here as the reference).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import as_strided  # noqa: E402

SHAPES = [  # (x shape, w shape, stride, padding, dilation, groups)
    ((32, 16, 32, 32), (32, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((64, 1, 8, 8), (16, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((64, 16, 8, 8), (32, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((64, 16, 4, 4), (32, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((16, 32, 32, 32), (64, 32, 3, 3), (2, 2), (1, 1), (1, 1), 1),
    ((16, 32, 32, 32), (32, 8, 3, 3), (1, 1), (1, 1), (1, 1), 4),
    ((16, 32, 32, 32), (32, 1, 3, 3), (1, 1), (1, 1), (1, 1), 32),
]


# ------------------------------------------------------- the kernels before this change
def _old_windows(x, kh, kw, stride, dilation):
    n, c, h, w = x.shape
    ho = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (w - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    s = x.strides
    return as_strided(x, (n, c, ho, wo, kh, kw),
                      (s[0], s[1], s[2] * stride[0], s[3] * stride[1], s[2] * dilation[0],
                       s[3] * dilation[1]))


def _old_pad(x, padding):
    ph, pw = padding
    return x if padding == (0, 0) else np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def old_conv2d(x, w, stride, padding, dilation, groups):
    cout, cin_g, kh, kw = w.shape
    windows = _old_windows(_old_pad(x, padding), kh, kw, stride, dilation)
    og = cout // groups
    parts = [np.tensordot(windows[:, g * cin_g:(g + 1) * cin_g], w[g * og:(g + 1) * og],
                          axes=((1, 4, 5), (1, 2, 3))) for g in range(groups)]
    return np.ascontiguousarray(np.concatenate(parts, axis=3).transpose(0, 3, 1, 2))


def old_input_grad(grad, w, x_shape, stride, padding, dilation, groups):
    n, c, h, wd = x_shape
    cout, cin_g, kh, kw = w.shape
    ph, pw = padding
    ho, wo = grad.shape[2], grad.shape[3]
    padded = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=grad.dtype)
    og = cout // groups
    for g in range(groups):
        cols = np.tensordot(grad[:, g * og:(g + 1) * og], w[g * og:(g + 1) * og],
                            axes=((1,), (0,)))
        target = padded[:, g * cin_g:(g + 1) * cin_g]
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dilation[0], j * dilation[1]
                target[:, :, r0:r0 + stride[0] * (ho - 1) + 1:stride[0],
                       c0:c0 + stride[1] * (wo - 1) + 1:stride[1]] += \
                    cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + wd])


def old_weight_grad(x, grad, w_shape, stride, padding, dilation, groups):
    cout, cin_g, kh, kw = w_shape
    windows = _old_windows(_old_pad(x, padding), kh, kw, stride, dilation)
    og = cout // groups
    parts = [np.tensordot(grad[:, g * og:(g + 1) * og], windows[:, g * cin_g:(g + 1) * cin_g],
                          axes=((0, 2, 3), (0, 2, 3))) for g in range(groups)]
    return parts[0] if groups == 1 else np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------- timing
def best_of(fns, repeat):
    """{name: best seconds}, the candidates interleaved sample by sample."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: min(v) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--budgets", default=str(1 << 20),
                        help="comma-separated column-buffer budgets (elements) to compare")
    args = parser.parse_args()
    import torch
    import torch.nn.grad as tgrad

    from plugrad.backends.numpy import load
    torch.set_num_threads(1)
    be = load()
    budgets = [int(b) for b in args.budgets.split(",")]
    rng = np.random.default_rng(0)
    print(f"{'shape':52} {'pass':6} {'torch':>8} {'before':>8} " +
          " ".join(f"{'b=' + str(b):>10}" for b in budgets) + "   (ms; after/torch)")
    for xs, ws, s, p, d, g in SHAPES:
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        y = be.conv2d(x, w, s, p, d, g)
        gy = rng.standard_normal(y.shape, dtype=np.float32)
        tx, tw, tg = map(torch.from_numpy, (x, w, gy))

        def ours(fn, b):
            def run():
                be._conv_budget = b
                fn()
            return run
        passes = {
            "fwd": (lambda: torch.nn.functional.conv2d(tx, tw, None, s, p, d, g),
                    lambda: old_conv2d(x, w, s, p, d, g),
                    lambda: be.conv2d(x, w, s, p, d, g)),
            "dx": (lambda: tgrad.conv2d_input(xs, tw, tg, s, p, d, g),
                   lambda: old_input_grad(gy, w, xs, s, p, d, g),
                   lambda: be.conv2d_input_grad(gy, w, xs, s, p, d, g)),
            "dw": (lambda: tgrad.conv2d_weight(tx, ws, tg, s, p, d, g),
                   lambda: old_weight_grad(x, gy, ws, s, p, d, g),
                   lambda: be.conv2d_weight_grad(x, gy, ws, s, p, d, g)),
        }
        label = f"{xs} w{ws[:2]}" + (f" s{s[0]}" if s != (1, 1) else "") + \
            (f" g{g}" if g != 1 else "")
        for name, (ref, old, new) in passes.items():
            fns = {"torch": ref, "before": old}
            fns.update({b: ours(new, b) for b in budgets})
            t = best_of(fns, args.repeat)
            ratio = min(t[b] for b in budgets) / t["torch"]
            print(f"{label:52} {name:6} {t['torch'] * 1e3:8.3f} {t['before'] * 1e3:8.3f} " +
                  " ".join(f"{t[b] * 1e3:10.3f}" for b in budgets) + f"   {ratio:.2f}x")
    be._conv_budget = type(be)._conv_budget


if __name__ == "__main__":
    main()
