"""Samplers whose torch algorithm draws element by element from the generator (so plugrad
cannot reproduce torch's exact values): Marsaglia-Tsang gamma, Hormann's PTRS Poisson and a
Bernoulli-count binomial, written as vectorized rejection loops over plugrad's own stream.
Their distributions are checked (moments, KS tests), not their values. The gamma sample
carries torch's reparametrized gradient (``standard_gamma_grad``, Knowles' approximation as
in ATen/native/Distributions.h).
"""
from __future__ import annotations

import math

import plugrad as torch
from plugrad.autograd import Function

from ..ops.gamma import digamma, lgamma


def _accept_loop(shape, dtype, device, propose):
    """Run ``propose() -> (value, accepted)`` until every element has accepted once."""
    out = torch.zeros(shape, dtype=dtype, device=device)
    pending = torch.ones(shape, dtype=torch.bool, device=device)
    while bool(pending.any()):
        value, accepted = propose()
        take = pending & accepted
        out = torch.where(take, value, out)
        pending = pending & ~take
    return out


def _standard_gamma_sample(alpha):
    """Gamma(alpha, 1) draws (Marsaglia and Tsang 2000; alpha < 1 boosted by U^(1/alpha))."""
    with torch.no_grad():
        a = alpha.double()
        small = a < 1
        boost = torch.where(small, torch.rand(a.shape, dtype=torch.float64, device=a.device)
                            .neg().add(1).pow(1.0 / torch.where(small, a, 1.0)), 1.0)
        a1 = torch.where(small, a + 1, a)
        d = a1 - 1.0 / 3.0
        c = 1.0 / (9.0 * d).sqrt()

        def propose():
            x = torch.randn(a.shape, dtype=torch.float64, device=a.device)
            u = 1 - torch.rand(a.shape, dtype=torch.float64, device=a.device)
            y = 1.0 + c * x
            v = y * y * y
            xx = x * x
            ok = (u < 1.0 - 0.0331 * xx * xx) | (u.log() < 0.5 * xx + d * (1.0 - v + v.clamp(min=1e-300).log()))
            return d * v, ok & (y > 0)
        sample = _accept_loop(a.shape, torch.float64, a.device, propose) * boost
        sample = torch.where(a == 0, 0.0, sample).to(alpha.dtype)
        return sample.clamp(min=torch.finfo(alpha.dtype).tiny)


_COEF_UV = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
            (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
            (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07))


def standard_gamma_grad(alpha, x):
    """d x / d alpha for x ~ Gamma(alpha, 1) held at its CDF level (torch's three regimes:
    a Taylor series for x < 0.8, Rice's saddle point for alpha > 8, a rational fit)."""
    a, x = alpha.double(), x.double()
    # small x: series for the CDF and its alpha derivative
    xs = x.clamp(max=0.8)
    numer = torch.ones_like(a)
    denom = a.clone()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-xs / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = xs.pow(a)
    pdf = xs.pow(a - 1) * (-xs).exp()
    cdf = pow_x_alpha * series1
    cdf_alpha = (xs.log() - digamma(a)) * cdf - pow_x_alpha * series2
    small = -cdf_alpha / pdf
    small = torch.where(small.isnan(), 0.0, small)
    # large alpha
    near = (0.9 * a <= x) & (x <= 1.1 * a)
    n1 = 1 + 24 * a * (1 + 12 * a)
    n2 = 1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a + a * (107 + 3600 * x)
    saddle_near = n1 * n2 / (1244160 * (a * a) * (a * a))
    denom8 = (8 * a).sqrt()
    diff = torch.where(a == x, 1.0, a - x)
    term2 = denom8 / diff
    t3base = (x - a - a * (x / a).log()).clamp(min=1e-300)
    term3 = t3base.pow(-1.5)
    term23 = torch.where(x < a, term2 - term3, term2 + term3)
    term1 = (x / a).log() * term23 - (2 / a).sqrt() * (a + x) / (diff * diff)
    stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
    saddle_far = -stirling * x * term1 / denom8
    saddle = torch.where(near, saddle_near, saddle_far)
    # rational approximation
    u, v = (x / a).log(), a.log()
    cv = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_COEF_UV)]
    p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
    q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
    rational = (p / q).exp()
    out = torch.where(x < 0.8, small, torch.where(a > 8.0, saddle, rational))
    return out.to(alpha.dtype)


class _StandardGamma(Function):
    """Gamma(alpha, 1) sample with torch's implicit reparametrization gradient."""

    @staticmethod
    def forward(ctx, alpha):
        x = _standard_gamma_sample(alpha)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * standard_gamma_grad(alpha, x)


def standard_gamma(alpha):
    """Gamma(alpha, 1) draws of alpha's shape, differentiable in alpha."""
    return _StandardGamma.apply(alpha)


def poisson(rate):
    """Poisson(rate) counts: inversion for rate < 10, Hormann's PTRS above."""
    with torch.no_grad():
        lam = rate.double()
        shape, dev = lam.shape, lam.device
        small_lam = torch.where(lam < 10, lam, 0.0)
        # inversion: count until the running CDF passes a uniform
        u = torch.rand(shape, dtype=torch.float64, device=dev)
        k = torch.zeros(shape, dtype=torch.float64, device=dev)
        p = (-small_lam).exp()
        cdf = p.clone()
        active = (u > cdf) & (lam < 10)
        while bool(active.any()):
            k = torch.where(active, k + 1, k)
            p = torch.where(active, p * small_lam / k.clamp(min=1), p)
            cdf = torch.where(active, cdf + p, cdf)
            active = active & (u > cdf) & (k < 200)
        big = torch.where(lam >= 10, lam, 10.0)
        slam, loglam = big.sqrt(), big.log()
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)

        def propose():
            uu = torch.rand(shape, dtype=torch.float64, device=dev) - 0.5
            vv = torch.rand(shape, dtype=torch.float64, device=dev)
            us = 0.5 - uu.abs()
            kk = ((2 * a / us + b) * uu + big + 0.43).floor()
            quick = (us >= 0.07) & (vv <= vr)
            reject = (kk < 0) | ((us < 0.013) & (vv > us))
            slow = (vv.log() + invalpha.log() - (a / (us * us) + b).log()
                    <= -big + kk * loglam - lgamma(kk.clamp(min=0) + 1))
            return kk, quick | (~reject & slow)
        large = _accept_loop(shape, torch.float64, dev, propose)
        out = torch.where(lam < 10, k, large)
        return torch.where(lam == 0, 0.0, out).to(rate.dtype)


def binomial(total_count, probs):
    """Binomial(n, p) counts: the number of n uniforms below p (exact, O(n) per element)."""
    with torch.no_grad():
        n = total_count.double()
        p = probs.double()
        top = int(n.max()) if n.numel() else 0
        count = torch.zeros(p.shape, dtype=torch.float64, device=p.device)
        done = 0
        while done < top:
            step = min(256, top - done)
            u = torch.rand((step,) + tuple(p.shape), dtype=torch.float64, device=p.device)
            idx = torch.arange(done, done + step, dtype=torch.float64, device=p.device)
            idx = idx.reshape((step,) + (1,) * p.dim())
            count = count + ((u < p) & (idx < n)).double().sum(0)
            done += step
        return count.to(probs.dtype)
