"""KL divergences between different families, as torch registers them: closed forms where the
support of p lies inside q's, infinity where it does not (infinite entries are masked where the
supports only partly overlap). Imported by ``plugrad.distributions`` for its registrations."""
from __future__ import annotations

import math

import plugrad as torch

from .bernoulli import Bernoulli
from .discrete import Binomial, Poisson
from .exponential import Exponential
from .extreme_value import EULER_GAMMA, Gumbel, Pareto
from .gamma import Beta, Gamma
from .kl import _infinite_like, register_kl
from .laplace import Laplace
from .normal import Normal
from .uniform import Uniform

_HALF_LOG_2PI_E = 0.5 * (1 + math.log(2 * math.pi))


def _x_log_x(t):
    return t * t.log()


def _beta_mean(p):
    return p.concentration1 / (p.concentration1 + p.concentration0)


# -------------------------------------------------------- p's support is not inside q's
def _infinite_p(attr):
    return lambda p, q: _infinite_like(getattr(p, attr))


for _p, _qs, _attr in ((Beta, (Pareto,), "concentration1"),
                       (Exponential, (Beta, Pareto, Uniform), "rate"),
                       (Gamma, (Beta, Pareto, Uniform), "concentration"),
                       (Gumbel, (Beta, Exponential, Gamma, Pareto, Uniform), "loc"),
                       (Laplace, (Beta, Exponential, Gamma, Pareto, Uniform), "loc"),
                       (Normal, (Beta, Exponential, Gamma, Pareto, Uniform), "loc"),
                       (Pareto, (Beta, Uniform), "scale"),
                       (Poisson, (Bernoulli, Binomial), "rate")):
    for _q in _qs:
        register_kl(_p, _q)(_infinite_p(_attr))


# ----------------------------------------------------------------------- closed forms
@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * _beta_mean(p)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    total = p.concentration1 + p.concentration0
    return -p.entropy() + q.concentration.lgamma() - q.concentration * q.rate.log() - \
        (q.concentration - 1) * (p.concentration1.digamma() - total.digamma()) + \
        q.rate * p.concentration1 / total


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    mean = _beta_mean(p)
    var = q.scale.pow(2)
    second = (mean * (1 - mean) / (p.concentration1 + p.concentration0 + 1) + mean.pow(2)) * 0.5
    return -p.entropy() + 0.5 * (var * 2 * math.pi).log() + \
        (second - q.loc * mean + q.loc.pow(2) * 0.5) / var


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    outside = (q.low > p.support.lower_bound).logical_or(q.high < p.support.upper_bound)
    return result.masked_fill(outside, math.inf)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    prod = p.rate * q.scale
    ratio = q.loc / q.scale
    return prod.log() - 1 - ratio + torch.exp(ratio) * prod / (prod + 1) + prod.reciprocal()


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    var = q.scale.pow(2)
    rate_sq = p.rate.pow(2)
    return 0.5 * torch.log(rate_sq * var * 2 * math.pi) - 1 + \
        (rate_sq.reciprocal() - q.loc / p.rate + q.loc.pow(2) * 0.5) / var


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    prod = p.rate * q.scale
    ratio = q.loc / q.scale
    a = p.concentration
    return (a - 1) * a.digamma() - a.lgamma() - a + prod.log() + a / prod + \
        torch.exp(ratio) * (1 + prod.reciprocal()).pow(-a) - ratio


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    var = q.scale.pow(2)
    rate_sq = p.rate.pow(2)
    a = p.concentration
    t1 = 0.5 * torch.log(rate_sq * var * 2 * math.pi) - a - a.lgamma()
    t2 = 0.5 * (a.pow(2) + a) / rate_sq - q.loc * a / p.rate + 0.5 * q.loc.pow(2)
    return t1 + (a - 1) * a.digamma() + t2 / var


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    ratio = p.scale / q.scale
    t1 = (ratio / math.sqrt(2 * math.pi)).log()
    t2 = (math.pi * ratio * 0.5).pow(2) / 3
    t3 = ((p.loc + p.scale * EULER_GAMMA - q.loc) / q.scale).pow(2) * 0.5
    return -t1 + t2 + t3 - (EULER_GAMMA + 1)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    var = q.scale.pow(2)
    ratio = p.scale.pow(2) / var
    t1 = 0.5 * torch.log(2 * ratio / math.pi)
    return -t1 + ratio + (0.5 * p.loc.pow(2) - p.loc * q.loc + 0.5 * q.loc.pow(2)) / var - 1


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    mean_ratio = p.loc / q.scale
    var_ratio = (p.scale / q.scale).pow(2)
    loc_ratio = q.loc / q.scale
    return -var_ratio.log() * 0.5 + mean_ratio - loc_ratio + \
        torch.exp(-mean_ratio + 0.5 * var_ratio + loc_ratio) - _HALF_LOG_2PI_E


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    prod = p.scale * q.rate
    result = (p.alpha / prod).log() - p.alpha.reciprocal() + p.alpha * prod / (p.alpha - 1) - 1
    return result.masked_fill(p.alpha <= 1, math.inf)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    common = p.scale.log() + p.alpha.reciprocal()
    result = p.alpha.log() - common + q.concentration.lgamma() - \
        q.concentration * q.rate.log() + (1 - q.concentration) * common + \
        q.rate * p.alpha * p.scale / (p.alpha - 1) - 1
    return result.masked_fill(p.alpha <= 1, math.inf)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    var2 = 2 * q.scale.pow(2)
    common = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t3 = p.alpha * common.pow(2) / (p.alpha - 2)
    t4 = (p.alpha * common - q.loc).pow(2)
    result = t1 - p.alpha.reciprocal() + (t3 + t4) / var2 - 1
    return result.masked_fill(p.alpha <= 2, math.inf)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    t2 = (q.concentration1 - 1) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t3 = (q.concentration0 - 1) * (_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    t4 = q.concentration1.lgamma() + q.concentration0.lgamma() - \
        (q.concentration1 + q.concentration0).lgamma()
    result = t3 + t4 - torch.log(width) - t2
    outside = (p.high > q.support.upper_bound).logical_or(p.low < q.support.lower_bound)
    return result.masked_fill(outside, math.inf)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return result.masked_fill(p.low < q.support.lower_bound, math.inf)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    width = p.high - p.low
    t3 = (1 - q.concentration) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    result = -width.log() + q.concentration.lgamma() - q.concentration * q.rate.log() + t3 + \
        q.rate * (p.high + p.low) / 2
    return result.masked_fill(p.low < q.support.lower_bound, math.inf)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    common = q.scale / (p.high - p.low)
    high = (p.high - q.loc) / q.scale
    low = (p.low - q.loc) / q.scale
    return common.log() + 0.5 * (high + low) - common * (torch.exp(-high) - torch.exp(-low))


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    width = p.high - p.low
    t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
    t2 = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    result = t2 * (q.alpha + 1) - t1
    return result.masked_fill(p.low < q.support.lower_bound, math.inf)
