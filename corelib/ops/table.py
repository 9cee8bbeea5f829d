"""Every op of the public API, declared once (plugrad's ``native_functions.yaml``).

One row per op says where it is implemented and which of torch's variants it has; the
bindings are derived from here and nowhere else:

* ``torch.<name>`` functions (:mod:`plugrad._functions`), ``Tensor.<name>`` methods, the
  ``Tensor.<name>_`` in-place methods and the Python operators (:mod:`plugrad._methods`);
* numpy ufuncs on tensors (``np.exp(t)``: ``Tensor.__array_ufunc__``);
* the fuzz and conformance lists of frontend ops (``tests/``), which read :data:`OPS`.

Columns of ``_op(name, impl, variants, prims, ...)``:

* ``name`` -- torch's name. ``impl`` -- ``"module.attribute"`` inside :mod:`plugrad.ops`,
  resolved lazily (:func:`resolve`), so reading this table imports no op module.
* ``variants`` -- ``f`` a ``torch.name`` function, ``m`` a ``Tensor.name`` method, ``i`` a
  ``Tensor.name_`` in-place method, ``F`` a ``torch.name_`` function (torch's in-place
  functions: ``torch.relu_(x)`` is ``x.relu_()``). The in-place method is ``apply_inplace(self, op, ...)``
  unless ``inplace=`` names a hand-written one (a fast path, or a different signature).
* ``prims`` -- the contract primitive(s) the forward calls directly on the backend (space
  separated, see :mod:`plugrad.plugins.contract`); empty for a composite written in other
  ops. A test checks each name against the contract.
* ``aliases`` -- other names with the same variants (``subtract`` for ``sub``: function,
  method and ``subtract_``), as torch declares them.
* ``operator`` -- the Python operator stem: ``"add"`` binds ``__add__``, ``__radd__`` and,
  with an in-place variant, ``__iadd__``; comparisons and unary operators bind one method.
* ``ufunc`` -- numpy ufunc names that run as this op on a tensor.
* ``method`` -- the method's implementation where its signature differs from the function's
  (``Tensor.where(condition, other)``).

Adding an op: implement it in its family module, add one row here, write its tests.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class OpDecl:
    """One op and its variants (see the module docstring for each column)."""
    name: str
    impl: str
    variants: str
    prims: tuple
    aliases: tuple = ()
    operator: str | None = None
    ufunc: tuple = ()
    inplace: str | None = None
    method: str | None = None

    @property
    def family(self) -> str:
        """The op module it lives in (``unary``, ``binary``, ``reduce``, ...)."""
        return self.impl.split(".", 1)[0]

    def names(self) -> tuple:
        """The op's name and its aliases."""
        return (self.name,) + self.aliases


def resolve(path: str):
    """The object ``"module.attribute"`` names inside :mod:`plugrad.ops`."""
    module, attr = path.split(".")
    return getattr(importlib.import_module(f"plugrad.ops.{module}"), attr)


def _ops():
    rows = []

    def _op(name, impl, variants, prims, *, aliases="", operator=None, ufunc="", inplace=None,
            method=None):
        rows.append(OpDecl(name, impl, variants, tuple(prims.split()), tuple(aliases.split()),
                           operator, tuple(ufunc.split()), inplace, method))

    # ------------------------------------------------------------------ unary
    _op("abs",               "unary.abs",                 "fmi", "abs",
        aliases="absolute", operator="abs", ufunc="absolute")
    _op("acos",              "unary.acos",                "fmiF", "acos",
        aliases="arccos", ufunc="arccos")
    _op("asin",              "unary.asin",                "fmiF", "asin",
        aliases="arcsin", ufunc="arcsin")
    _op("atan",              "unary.atan",                "fmiF", "atan",
        aliases="arctan", ufunc="arctan")
    _op("bitwise_not",       "unary.bitwise_not",         "fmi", "bitwise_not",
        operator="invert", ufunc="invert")
    _op("ceil",              "unary.ceil",                "fmiF", "ceil", ufunc="ceil")
    _op("cos",               "unary.cos",                 "fmiF", "cos", ufunc="cos")
    _op("cosh",              "unary.cosh",                "fmiF", "cosh", ufunc="cosh")
    _op("erf",               "unary.erf",                 "fmiF", "erf")
    _op("exp",               "unary.exp",                 "fmiF", "exp", ufunc="exp")
    _op("exp2",              "unary.exp2",                "fmiF", "", ufunc="exp2")
    _op("expm1",             "unary.expm1",               "fmiF", "expm1", ufunc="expm1")
    _op("trunc",             "unary.trunc",               "fmiF", "trunc",
        aliases="fix", ufunc="trunc")
    _op("floor",             "unary.floor",               "fmiF", "floor", ufunc="floor")
    _op("frac",              "unary.frac",                "fmiF", "")
    _op("isfinite",          "unary.isfinite",            "fm",  "", ufunc="isfinite")
    _op("isinf",             "unary.isinf",               "fm",  "isinf", ufunc="isinf")
    _op("isnan",             "unary.isnan",               "fm",  "isnan", ufunc="isnan")
    _op("isneginf",          "unary.isneginf",            "fm",  "")
    _op("isposinf",          "unary.isposinf",            "fm",  "")
    _op("log",               "unary.log",                 "fmiF", "log", ufunc="log")
    _op("log10",             "unary.log10",               "fmiF", "", ufunc="log10")
    _op("log1p",             "unary.log1p",               "fmiF", "log1p", ufunc="log1p")
    _op("log2",              "unary.log2",                "fmiF", "", ufunc="log2")
    _op("logical_not",       "unary.logical_not",         "fmi", "logical_not",
        ufunc="logical_not")
    _op("neg",               "unary.neg",                 "fmiF", "neg",
        aliases="negative", operator="neg", ufunc="negative")
    _op("reciprocal",        "unary.reciprocal",          "fmiF", "reciprocal", ufunc="reciprocal")
    _op("round",             "unary.round",               "fmiF", "round", ufunc="rint")
    _op("rsqrt",             "unary.rsqrt",               "fmiF", "")
    _op("sigmoid",           "unary.sigmoid",             "fmiF", "sigmoid")
    _op("sign",              "unary.sign",                "fmi", "sign", ufunc="sign")
    _op("sin",               "unary.sin",                 "fmiF", "sin", ufunc="sin")
    _op("sinh",              "unary.sinh",                "fmiF", "sinh", ufunc="sinh")
    _op("sqrt",              "unary.sqrt",                "fmiF", "sqrt", ufunc="sqrt")
    _op("tan",               "unary.tan",                 "fmiF", "tan", ufunc="tan")
    _op("tanh",              "unary.tanh",                "fmiF", "tanh", ufunc="tanh")

    # ------------------------------------------------------------------ binary
    _op("add",               "binary.add",                "fmi", "add",
        operator="add", ufunc="add", inplace="inplace_methods.add_")
    _op("addcdiv",           "binary.addcdiv",            "fmi", "")
    _op("addcmul",           "binary.addcmul",            "fmi", "")
    _op("allclose",          "binary.allclose",           "fm",  "")
    _op("atan2",             "binary.atan2",              "fmi", "atan2",
        aliases="arctan2", ufunc="arctan2")
    _op("bitwise_and",       "binary.bitwise_and",        "fmi", "bitwise_and",
        operator="and", ufunc="bitwise_and")
    _op("bitwise_or",        "binary.bitwise_or",         "fmi", "bitwise_or",
        operator="or", ufunc="bitwise_or")
    _op("bitwise_xor",       "binary.bitwise_xor",        "fmi", "bitwise_xor",
        operator="xor", ufunc="bitwise_xor")
    _op("div",               "binary.div",                "fmi", "div",
        aliases="divide", operator="truediv", ufunc="true_divide divide", inplace="inplace_methods.div_")
    _op("eq",                "binary.eq",                 "fmi", "eq",
        operator="eq", ufunc="equal")
    _op("equal",             "binary.eq_all",             "fm",  "")
    _op("floor_divide",      "binary.floor_divide",       "fmi", "floordiv",
        operator="floordiv", ufunc="floor_divide")
    _op("fmod",              "binary.fmod",               "fmi", "", ufunc="fmod")
    _op("ge",                "binary.ge",                 "fmi", "ge",
        aliases="greater_equal", operator="ge", ufunc="greater_equal")
    _op("gt",                "binary.gt",                 "fmi", "gt",
        aliases="greater", operator="gt", ufunc="greater")
    _op("isclose",           "binary.isclose",            "fm",  "")
    _op("le",                "binary.le",                 "fmi", "le",
        aliases="less_equal", operator="le", ufunc="less_equal")
    _op("lerp",              "binary.lerp",               "fmi", "")
    _op("lt",                "binary.lt",                 "fmi", "lt",
        aliases="less", operator="lt", ufunc="less")
    _op("logical_and",       "binary.logical_and",        "fmi", "logical_and",
        ufunc="logical_and")
    _op("logical_or",        "binary.logical_or",         "fmi", "logical_or", ufunc="logical_or")
    _op("logical_xor",       "binary.logical_xor",        "fmi", "logical_xor",
        ufunc="logical_xor")
    _op("maximum",           "binary.maximum",            "fm",  "maximum", ufunc="maximum")
    _op("minimum",           "binary.minimum",            "fm",  "minimum", ufunc="minimum")
    _op("mul",               "binary.mul",                "fmi", "mul",
        aliases="multiply", operator="mul", ufunc="multiply", inplace="inplace_methods.mul_")
    _op("ne",                "binary.ne",                 "fmi", "ne",
        aliases="not_equal", operator="ne", ufunc="not_equal")
    _op("pow",               "binary.pow",                "fmi", "pow",
        operator="pow", ufunc="power")
    _op("remainder",         "binary.remainder",          "fmi", "remainder",
        operator="mod", ufunc="remainder")
    _op("rsub",              "binary.rsub",               "f",   "")
    _op("square",            "binary.square",             "fmiF", "", ufunc="square")
    _op("sub",               "binary.sub",                "fmi", "sub",
        aliases="subtract", operator="sub", ufunc="subtract", inplace="inplace_methods.sub_")
    _op("true_divide",       "binary.true_divide",        "fmi", "div", inplace="inplace_methods.div_")

    # ------------------------------------------------------------------ linalg
    _op("addmm",             "linalg.addmm",              "fmi", "")
    _op("addmv",             "linalg.addmv",              "fmiF", "")
    _op("baddbmm",           "linalg.baddbmm",            "fmi", "")
    _op("addr",              "linalg.addr",               "fmi", "")
    _op("addbmm",            "linalg.addbmm",             "fmi", "")
    _op("chain_matmul",      "linalg.chain_matmul",       "f",   "")
    _op("bmm",               "linalg.bmm",                "fm",  "")
    _op("dot",               "linalg.dot",                "fm",  "", aliases="inner")
    _op("einsum",            "linalg.einsum",             "f",   "")
    _op("outer",             "linalg.outer",              "fm",  "", aliases="ger")
    _op("matmul",            "linalg.matmul",             "fm",  "matmul", operator="matmul",
        ufunc="matmul")
    _op("mm",                "linalg.mm",                 "fm",  "")
    _op("mv",                "linalg.mv",                 "fm",  "")
    _op("tensordot",         "linalg.tensordot",          "f",   "")
    # --------------------------------------------------------------- complex tensors
    _op("view_as_real",      "complex_ops.view_as_real",  "f",   "view_as_real")
    _op("view_as_complex",   "complex_ops.view_as_complex", "f", "view_as_complex")
    _op("real",              "complex_ops.real",          "f",   "view_as_real")
    _op("imag",              "complex_ops.imag",          "f",   "view_as_real")
    _op("conj",              "complex_ops.conj",          "fm",  "complex_conj")
    _op("conj_physical",     "complex_ops.conj_physical", "fm",  "complex_conj")
    _op("resolve_conj",      "complex_ops.resolve_conj",  "fm",  "")
    _op("resolve_neg",       "complex_ops.resolve_neg",   "fm",  "")
    _op("angle",             "complex_ops.angle",         "fm",  "complex_angle")
    _op("complex",           "complex_ops.complex",       "f",   "")
    _op("polar",             "complex_ops.polar",         "f",   "")
    _op("vdot",              "complex_ops.vdot",          "fm",  "")
    _op("stft",              "spectral.stft",             "fm",  "")
    _op("istft",             "spectral.istft",            "fm",  "")
    _op("hann_window",       "spectral.hann_window",      "f",   "")
    _op("hamming_window",    "spectral.hamming_window",   "f",   "")
    _op("blackman_window",   "spectral.blackman_window",  "f",   "")
    _op("bartlett_window",   "spectral.bartlett_window",  "f",   "")
    _op("kaiser_window",     "spectral.kaiser_window",    "f",   "")
    # ---------------------------------------------- torch.* spellings of torch.linalg
    _op("inverse",           "decomp.inverse",            "fm",  "linalg_inv")
    _op("det",               "decomp.det",                "fm",  "linalg_det")
    _op("logdet",            "decomp.logdet",             "fm",  "linalg_slogdet")
    _op("slogdet",           "decomp.torch_slogdet",      "fm",  "linalg_slogdet")
    _op("cholesky",          "linalg_compose.torch_cholesky", "fm", "linalg_cholesky")
    _op("cholesky_solve",    "linalg_compose.cholesky_solve", "fm", "")
    _op("geqrf",             "linalg_compose.geqrf",      "fm",  "")
    _op("orgqr",             "linalg_compose.orgqr",      "fm",  "")
    _op("cholesky_inverse",  "linalg_compose.cholesky_inverse", "fm", "")
    _op("triangular_solve",  "linalg_compose.triangular_solve", "fm", "")
    _op("qr",                "decomp.torch_qr",           "fm",  "linalg_qr")
    _op("svd",               "decomp.torch_svd",          "fm",  "linalg_svd")
    _op("pinverse",          "linalg_compose.pinverse",   "fm",  "")
    _op("matrix_power",      "linalg_compose.matrix_power", "fm", "")
    _op("trace",             "linalg.trace",              "fm",  "")
    _op("matrix_exp",        "matrix_functions.matrix_exp", "fm", "")
    _op("cross",             "linalg_compose.torch_cross", "fm", "")
    _op("lu",                "lu.torch_lu",               "fm",  "linalg_lu_factor")
    _op("lu_solve",          "lu.torch_lu_solve",         "fm",  "")
    _op("lu_unpack",         "lu.lu_unpack",              "f",   "")
    _op("vander",            "matrix_functions.vander",   "f",   "")

    # ------------------------------------------------------------------ reduce
    _op("all",               "reduce.all",                "fm",  "all")
    _op("amax",              "reduce.amax",               "fm",  "max")
    _op("amin",              "reduce.amin",               "fm",  "min")
    _op("aminmax",           "reduce.aminmax",            "fm",  "")
    _op("any",               "reduce.any",                "fm",  "any")
    _op("argmax",            "reduce.argmax",             "fm",  "argmax")
    _op("argmin",            "reduce.argmin",             "fm",  "argmin")
    _op("count_nonzero",     "reduce.count_nonzero",      "fm",  "")
    _op("cumprod",           "reduce.cumprod",            "fmi", "cumprod")
    _op("cumsum",            "reduce.cumsum",             "fmi", "cumsum")
    _op("logsumexp",         "reduce.logsumexp",          "fm",  "")
    _op("max",               "reduce.max",                "fm",  "max")
    _op("mean",              "reduce.mean",               "fm",  "")
    _op("min",               "reduce.min",                "fm",  "min")
    _op("nanmean",           "reduce.nanmean",            "fm",  "")
    _op("nansum",            "reduce.nansum",             "fm",  "")
    _op("norm",              "reduce.norm",               "fm",  "")
    _op("prod",              "reduce.prod",               "fm",  "prod")
    _op("std",               "reduce.std",                "fm",  "")
    _op("std_mean",          "reduce.std_mean",           "f",   "")
    _op("sum",               "reduce.sum",                "fm",  "sum")
    _op("var",               "reduce.var",                "fm",  "")
    _op("var_mean",          "reduce.var_mean",           "f",   "")

    # ------------------------------------------------------------------ creation
    _op("arange",            "creation.arange",           "f",   "")
    _op("as_tensor",         "creation.as_tensor",        "f",   "", aliases="asarray")
    _op("bernoulli",         "creation.bernoulli",        "fmi", "",
        inplace="inplace_methods.bernoulli_")
    _op("empty",             "creation.empty",            "f",   "")
    _op("empty_like",        "creation.empty_like",       "f",   "")
    _op("eye",               "creation.eye",              "f",   "")
    _op("from_dlpack",       "creation.from_dlpack",      "f",   "")
    _op("from_numpy",        "creation.from_numpy",       "f",   "")
    _op("full",              "creation.full",             "f",   "")
    _op("full_like",         "creation.full_like",        "f",   "")
    _op("linspace",          "creation.linspace",         "f",   "")
    _op("logspace",          "creation.logspace",         "f",   "")
    _op("multinomial",       "creation.multinomial",      "fm",  "")
    _op("normal",            "creation.normal",           "f",   "")
    _op("ones",              "creation.ones",             "f",   "")
    _op("ones_like",         "creation.ones_like",        "f",   "")
    _op("rand",              "creation.rand",             "f",   "")
    _op("rand_like",         "creation.rand_like",        "f",   "")
    _op("randint",           "creation.randint",          "f",   "")
    _op("randint_like",      "creation.randint_like",     "f",   "")
    _op("randn",             "creation.randn",            "f",   "")
    _op("randn_like",        "creation.randn_like",       "f",   "")
    _op("randperm",          "creation.randperm",         "f",   "")
    _op("tensor",            "creation.tensor",           "f",   "")
    _op("tril_indices",      "creation.tril_indices",     "f",   "")
    _op("triu_indices",      "creation.triu_indices",     "f",   "")
    _op("zeros",             "creation.zeros",            "f",   "")
    _op("zeros_like",        "creation.zeros_like",       "f",   "")
    _op("new_zeros",         "creation.new_zeros",        "m",   "")
    _op("new_ones",          "creation.new_ones",         "m",   "")
    _op("new_full",          "creation.new_full",         "m",   "")
    _op("new_empty",         "creation.new_empty",        "m",   "")
    _op("new_tensor",        "creation.new_tensor",       "m",   "")

    # ------------------------------------------------------------------ sort
    _op("argsort",           "sort.argsort",              "fm",  "")
    _op("msort",             "sort.msort",                "fm",  "")
    _op("sort",              "sort.sort",                 "fm",  "sort")
    # torch.* spellings of nn.functional ops (torch's native signatures)
    _op("conv1d",            "nn_functions.conv1d",       "f",   "")
    _op("conv2d",            "nn_functions.conv2d",       "f",   "")
    _op("conv3d",            "nn_functions.conv3d",       "f",   "")
    _op("cosine_similarity", "nn_functions.cosine_similarity", "f",   "")
    _op("pairwise_distance", "nn_functions.pairwise_distance", "f",   "")
    _op("pdist",             "nn_functions.pdist",        "f",   "")
    _op("pixel_shuffle",     "nn_functions.pixel_shuffle", "f",   "")
    _op("pixel_unshuffle",   "nn_functions.pixel_unshuffle", "f",   "")
    _op("celu",              "nn_functions.celu",         "f",   "")
    _op("selu",              "nn_functions.selu",         "f",   "")
    _op("prelu",             "nn_functions.prelu",        "fm",  "")
    _op("threshold",         "nn_functions.threshold",    "f",   "")
    _op("hardshrink",        "nn_functions.hardshrink",   "fm",  "")
    _op("bilinear",          "nn_functions.bilinear",     "f",   "")
    _op("dropout",           "nn_functions.dropout",      "f",   "")
    _op("alpha_dropout",     "nn_functions.alpha_dropout", "f",   "")
    _op("feature_alpha_dropout", "nn_functions.feature_alpha_dropout", "f",   "")
    _op("layer_norm",        "nn_functions.layer_norm",   "f",   "")
    _op("group_norm",        "nn_functions.group_norm",   "f",   "")
    _op("max_pool1d",        "nn_functions.max_pool1d",   "f",   "")
    _op("max_pool2d",        "nn_functions.max_pool2d",   "f",   "")
    _op("max_pool3d",        "nn_functions.max_pool3d",   "f",   "")
    _op("avg_pool1d",        "nn_functions.avg_pool1d",   "f",   "")
    _op("adaptive_avg_pool1d", "nn_functions.adaptive_avg_pool1d", "f",   "")
    _op("adaptive_max_pool1d", "nn_functions.adaptive_max_pool1d", "f",   "")
    _op("topk",              "sort.topk",                 "fm",  "")

    # ------------------------------------------------------------------ gather
    _op("argwhere",          "gather.argwhere",           "fm",  "")
    _op("gather",            "gather.gather",             "fm",  "")
    _op("index_add",         "gather.index_add",          "fmi", "")
    _op("index_fill",        "gather.index_fill",         "fmi", "")
    _op("index_select",      "gather.index_select",       "fm",  "")
    _op("masked_fill",       "gather.masked_fill",        "fmi", "")
    _op("masked_scatter",    "gather.masked_scatter",     "fmi", "")
    _op("masked_select",     "gather.masked_select",      "fm",  "")
    _op("nonzero",           "gather.nonzero",            "fm",  "nonzero")
    _op("scatter",           "gather.scatter",            "fmi", "")
    _op("scatter_add",       "gather.scatter_add",        "fmi", "")
    _op("take",              "gather.take",               "fm",  "")
    _op("take_along_dim",    "gather.take_along_dim",     "fm",  "")
    _op("where",             "ternary.where",             "fm",  "where",
        method="ternary.where_method")

    # ------------------------------------------------------------------ movement
    _op("atleast_1d",        "movement.atleast_1d",       "f",   "")
    _op("atleast_2d",        "movement.atleast_2d",       "f",   "")
    _op("atleast_3d",        "movement.atleast_3d",       "f",   "")
    _op("cat",               "movement.cat",              "f",   "concat",
        aliases="concat concatenate")
    _op("clone",             "movement.clone",            "fm",  "")
    _op("column_stack",      "movement.column_stack",     "f",   "")
    _op("diag_embed",        "movement.diag_embed",       "fm",  "")
    _op("diff",              "movement.diff",             "fm",  "")
    _op("dsplit",            "movement.dsplit",           "fm",  "")
    _op("dstack",            "movement.dstack",           "f",   "")
    _op("flip",              "movement.flip",             "fm",  "flip")
    _op("fliplr",            "movement.fliplr",           "fm",  "")
    _op("flipud",            "movement.flipud",           "fm",  "")
    _op("hsplit",            "movement.hsplit",           "fm",  "")
    _op("hstack",            "movement.hstack",           "f",   "")
    _op("kron",              "movement.kron",             "fm",  "")
    _op("repeat_interleave", "movement.repeat_interleave", "fm",  "")
    _op("roll",              "movement.roll",             "fm",  "")
    _op("rot90",             "movement.rot90",            "fm",  "")
    _op("vstack",            "movement.vstack",           "f",   "", aliases="row_stack")
    _op("stack",             "movement.stack",            "f",   "")
    _op("tile",              "movement.tile",             "fm",  "")
    _op("tril",              "movement.tril",             "fmi", "")
    _op("triu",              "movement.triu",             "fmi", "")
    _op("vsplit",            "movement.vsplit",           "fm",  "")
    _op("contiguous",        "movement.contiguous",       "m",   "")
    _op("repeat",            "movement.repeat",           "m",   "")

    # ------------------------------------------------------------------ views
    _op("broadcast_to",      "views.broadcast_to",        "fm",  "")
    _op("chunk",             "views.chunk",               "fm",  "")
    _op("adjoint",           "views.adjoint",             "fm",  "")
    _op("as_strided",        "strided_views.as_strided",  "fm",  "as_strided")
    _op("storage_offset",    "strided_views.storage_offset", "m", "")
    _op("diagonal",          "strided_views.diagonal",    "fm",  "as_strided")
    _op("flatten",           "views.flatten",             "fm",  "")
    _op("movedim",           "views.movedim",             "fm",  "", aliases="moveaxis")
    _op("narrow",            "views.narrow",              "fm",  "")
    _op("permute",           "views.permute",             "fm",  "permute")
    _op("ravel",             "views.ravel",               "fm",  "")
    _op("reshape",           "views.reshape",             "fm",  "reshape")
    _op("select",            "views.select",              "fm",  "")
    _op("split",             "views.split",               "fm",  "")
    _op("split_with_sizes",  "views.split",               "fm",  "")
    _op("squeeze",           "views.squeeze",             "fmi", "",
        inplace="inplace_methods.squeeze_")
    _op("transpose",         "views.transpose",           "fmi", "",
        inplace="inplace_methods.transpose_", aliases="swapaxes swapdims")
    _op("t",                 "views.t",                   "fmi", "", inplace="inplace_methods.t_")
    _op("tensor_split",      "views.tensor_split",        "fm",  "")
    _op("unbind",            "views.unbind",              "fm",  "")
    _op("unflatten",         "views.unflatten",           "fm",  "")
    _op("unfold",            "strided_views.unfold",      "m",   "as_strided")
    _op("unsqueeze",         "views.unsqueeze",           "fmi", "",
        inplace="inplace_methods.unsqueeze_")
    _op("view",              "views.view",                "m",   "")
    _op("view_as",           "views.view_as",             "m",   "")
    _op("reshape_as",        "views.reshape_as",          "m",   "")
    _op("expand",            "views.expand",              "m",   "expand")
    _op("expand_as",         "views.expand_as",           "m",   "")

    # ------------------------------------------------------------------ activation
    _op("clamp",             "activation.clamp",          "fmiF", "", aliases="clip")
    _op("clamp_max",         "activation.clamp_max",      "fmiF", "")
    _op("clamp_min",         "activation.clamp_min",      "fmiF", "")
    _op("log_softmax",       "activation.log_softmax",    "fm",  "log_softmax")
    _op("relu",              "activation.relu",           "fmiF", "")
    _op("softmax",           "activation.softmax",        "fm",  "softmax")

    # ------------------------------------------------------------------ math_extra
    _op("acosh",             "math_extra.acosh",          "fmiF", "", aliases="arccosh", ufunc="arccosh")
    _op("asinh",             "math_extra.asinh",          "fmiF", "", aliases="arcsinh", ufunc="arcsinh")
    _op("atanh",             "math_extra.atanh",          "fmiF", "", aliases="arctanh", ufunc="arctanh")
    _op("copysign",          "math_extra.copysign",       "fmi", "")
    _op("deg2rad",           "math_extra.deg2rad",        "fmiF", "")
    _op("dist",              "math_extra.dist",           "fm",  "")
    _op("float_power",       "math_extra.float_power",    "fm",  "")
    _op("fmax",              "math_extra.fmax",           "fm",  "")
    _op("fmin",              "math_extra.fmin",           "fm",  "")
    _op("heaviside",         "math_extra.heaviside",      "fmi", "")
    _op("hypot",             "math_extra.hypot",          "fmi", "")
    _op("ldexp",             "math_extra.ldexp",          "fmiF", "")
    _op("logaddexp",         "math_extra.logaddexp",      "fm",  "")
    _op("logaddexp2",        "math_extra.logaddexp2",     "fm",  "")
    _op("logit",             "math_extra.logit",          "fmiF", "")
    _op("nan_to_num",        "math_extra.nan_to_num",     "fmiF", "")
    _op("is_nonzero",        "math_extra.is_nonzero",     "fm",  "")
    _op("isreal",            "math_extra.isreal",         "fm",  "")
    _op("positive",          "math_extra.positive",       "fm",  "")
    _op("rad2deg",           "math_extra.rad2deg",        "fmiF", "")
    _op("renorm",            "math_extra.renorm",         "fmi", "")
    _op("sgn",               "math_extra.sgn",            "fmi", "")
    _op("signbit",           "math_extra.signbit",        "fm",  "")
    _op("sinc",              "math_extra.sinc",           "fmiF", "")
    _op("xlogy",             "math_extra.xlogy",          "fmiF", "")

    # ------------------------------------------------------------------ special
    _op("erfc",              "special.erfc",              "fmiF", "")
    _op("erfinv",            "special.erfinv",            "fmi", "")
    _op("lgamma",            "gamma.lgamma",              "fmi", "")
    _op("digamma",           "gamma.digamma",             "fmi", "")
    _op("polygamma",         "gamma.polygamma",           "fmi", "", method="gamma.polygamma_method")
    _op("igamma",            "igamma.gammainc",           "fmi", "")
    _op("igammac",           "igamma.gammaincc",          "fmi", "")
    _op("mvlgamma",          "gamma.mvlgamma",            "fmi", "")
    _op("i0",                "bessel.i0",                 "fmiF", "")

    # ------------------------------------------------------------------ stats
    _op("cummax",            "stats.cummax",              "fm",  "")
    _op("cummin",            "stats.cummin",              "fm",  "")
    _op("isin",              "stats.isin",                "f",   "")
    _op("kthvalue",          "stats.kthvalue",            "fm",  "")
    _op("logcumsumexp",      "stats.logcumsumexp",        "fm",  "")
    _op("median",            "stats.median",              "fm",  "")
    _op("nanmedian",         "stats.nanmedian",           "fm",  "")
    _op("unique",            "stats.unique",              "fm",  "")

    # ------------------------------------------------------------------ bucketing
    _op("bincount",          "bucketing.bincount",        "fm",  "")
    _op("bucketize",         "bucketing.bucketize",       "f",   "")
    _op("histc",             "bucketing.histc",           "fm",  "")
    _op("searchsorted",      "bucketing.searchsorted",    "f",   "")
    _op("unique_consecutive", "bucketing.unique_consecutive", "fm", "")

    # ------------------------------------------------------------------ integration
    _op("cumulative_trapezoid", "integration.cumulative_trapezoid", "f", "")
    _op("trapezoid",         "integration.trapezoid",     "f",   "")
    _op("trapz",             "integration.trapz",         "f",   "")

    # ------------------------------------------------------------------ combinatorics
    _op("block_diag",        "combinatorics.block_diag",  "f",   "")
    _op("cartesian_prod",    "combinatorics.cartesian_prod", "f", "")
    _op("corrcoef",          "combinatorics.corrcoef",    "fm",  "")
    _op("cov",               "combinatorics.cov",         "fm",  "")

    # ------------------------------------------------------------------ integer_math
    _op("gcd",               "integer_math.gcd",          "fmiF", "")
    _op("lcm",               "integer_math.lcm",          "fmiF", "")

    # ------------------------------------------------------------------ quantiles
    _op("nanquantile",       "quantiles.nanquantile",     "fm",  "")
    _op("quantile",          "quantiles.quantile",        "fm",  "")

    # ------------------------------------------------------------------ indexing
    _op("index_put",         "indexing.index_put",        "fmiF", "index_put",
        inplace="indexing.index_put_")

    # ------------------------------------------------------------------ conversion
    _op("to",                "conversion.to",             "m",   "")
    _op("cpu",               "conversion.cpu",            "m",   "")
    _op("cuda",              "conversion.cuda",           "m",   "")
    _op("float",             "conversion.float_",         "m",   "")
    _op("double",            "conversion.double",         "m",   "")
    _op("half",              "conversion.half",           "m",   "")
    _op("bfloat16",          "conversion.bfloat16",       "m",   "")
    _op("long",              "conversion.long",           "m",   "")
    _op("int",               "conversion.int_",           "m",   "")
    _op("short",             "conversion.short",          "m",   "")
    _op("char",              "conversion.char",           "m",   "")
    _op("byte",              "conversion.byte",           "m",   "")
    _op("bool",              "conversion.bool_",          "m",   "")
    _op("type_as",           "conversion.type_as",        "m",   "")

    # ------------------------------------------------------- in-place methods only
    _op("copy_",             "inplace_methods.copy_",     "m",   "assign")
    _op("fill_",             "inplace_methods.fill_",     "m",   "assign")
    _op("zero_",             "inplace_methods.zero_",     "m",   "assign")
    _op("uniform_",          "inplace_methods.uniform_",  "m",   "assign")
    _op("normal_",           "inplace_methods.normal_",   "m",   "assign")
    _op("random_",           "inplace_methods.random_",   "m",   "assign")
    _op("exponential_",      "inplace_methods.exponential_", "m", "")
    _op("resize_",           "inplace_methods.resize_",   "m",   "empty reshape slice assign")
    _op("resize_as_",        "inplace_methods.resize_as_", "m",  "")
    table = {row.name: row for row in rows}
    if len(table) != len(rows):           # a second row would silently replace the first
        seen = set()
        twice = sorted({r.name for r in rows if r.name in seen or seen.add(r.name)})
        raise RuntimeError(f"ops declared twice in plugrad.ops.table: {twice}")
    return table


OPS: dict[str, OpDecl] = _ops()
"""Every declared op by torch name (aliases are inside their op's row)."""
