"""``torch.distributions``: parametrized probability distributions, constraints, transforms
and KL divergences, with torch's API, validation messages and random streams.

Samples equal torch's for a seed where torch draws with a documented transform of its
generator (Normal, LogNormal, MultivariateNormal, Uniform, Exponential, Laplace, Bernoulli,
Categorical, OneHotCategorical); the rejection samplers (Gamma and the families built on it,
Poisson, Binomial) are checked by their distribution (moments, KS tests), not value by value.
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .cauchy import Cauchy, HalfCauchy
from .categorical import Categorical, OneHotCategorical, OneHotCategoricalStraightThrough
from .constraint_registry import biject_to, transform_to
from .distribution import Distribution
from .discrete import Binomial, Poisson
from .exponential import Exponential
from .extreme_value import Gumbel, Pareto, Weibull
from .geometric import Geometric
from .half_normal import HalfNormal
from .gamma import Beta, Chi2, Dirichlet, Gamma
from .gamma_family import FisherSnedecor, InverseGamma, Kumaraswamy
from .independent import Independent
from .kl import kl_divergence, register_kl
from . import kl_cross  # noqa: F401  (registers the cross-family KL pairs)
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .multinomial import Multinomial
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from .student_t import StudentT
from .transformed_distribution import LogNormal, TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transform_names
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Geometric",
           "Gumbel", "HalfCauchy", "HalfNormal", "FisherSnedecor", "InverseGamma", "Kumaraswamy", "LowRankMultivariateNormal", "Multinomial", "NegativeBinomial", "Pareto",
           "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "Weibull", "Dirichlet", "Distribution", "Exponential",
           "Gamma", "Independent", "Laplace", "LogNormal", "MixtureSameFamily", "MultivariateNormal",
           "Poisson", "Normal", "OneHotCategorical",
           "OneHotCategoricalStraightThrough", "TransformedDistribution", "Uniform", "biject_to",
           "constraints", "kl_divergence", "register_kl", "transform_to", "transforms",
           *_transform_names]
