"""The backend contract: every operation a backend may implement, in one declarative table.

This table is the single source of truth for the registry (what to validate and what to fall
back for), the conformance kit (what to test), ``python -m plugrad info`` (what to count) and
the README's "Writing a backend" section.

Three tiers, by what happens when a backend does not implement an op:

* ``runtime``   -- required. A backend missing one is rejected when its device is first
                   used (``load()`` is lazy) with a PluginError naming the missing functions,
                   the plugin and its distribution; nothing can be done without them.
* ``primitive`` -- expected. A missing one runs on the ``cpu`` backend with copies in and out
                   and a one-time warning (``PLUGRAD_STRICT_BACKEND=1`` makes that an error).
                   The four views (``reshape``, ``permute``, ``expand``, ``slice``) are
                   the exception: required, because a copy on the cpu backend would
                   lose writes made through the view.
* ``kernel``    -- optional, fused. The frontend uses it when present and composes the same
                   result from primitives otherwise, silently.

Conventions every op follows (the frontend has validated arguments before calling):

* ``buf`` is the backend's own array type; it must expose ``.shape`` (a tuple), which the
  frontend reads only for data-dependent results (``nonzero``). ``dtype`` is a dtype *name*:
  one of ``DTYPES``.
* Shapes and axes are tuples of non-negative Python ints; axes are already normalised.
* Binary and ternary ops broadcast like numpy. Their buffer operands share one dtype, and one
  operand may instead be a Python scalar (bool/int/float) meaning a value of that dtype.
* ``out=None``: when given, ``out`` is a buffer of the result's shape and dtype (possibly one
  of the inputs, possibly a strided view); the op writes into it and returns it.
* Ops return a *new* buffer unless listed under "views". View ops return buffers sharing
  memory with their input whenever the layout allows, so writes through a view reach the base.
* Backends never see autograd, Tensors or devices other than their own integer device index.

What else a backend is expected to do (and not do):

* dtypes: every op is called only with the dtypes listed in its doc (float ops get float
  dtypes; integer division by zero is unspecified, the frontend raises as torch does). A
  backend that cannot do some (op, dtype) -- float64 on a device without fp64, bfloat16 on
  numpy -- says so with an optional ``supports(op, dtype) -> bool`` (the frontend consults it
  before dtypes numpy lacks, the conformance kit reports such cells as missing, tests and
  benchmarks skip them) and raises a RuntimeError naming the dtype if called anyway.
* random numbers: torch's CPU stream everywhere. Without the optional ``mt19937_generate``
  kernel a random op draws on the host (a torch-identical MT19937) and arrives through
  ``from_host``; with it the generator's state moves to the device once and the same numbers
  are generated there, so every backend sees what torch's CPU generator gives for a seed.
* synchronization: ops may be asynchronous (queued on a stream), but ``to_host`` returns only
  once the buffer's data is final, and ``synchronize(device)`` blocks until everything queued
  on the device is done (benchmarks time up to it).
* devices: ``device`` arguments are the integer index into the backend's own devices; a
  multi-device backend may define ``device_guard(index)`` returning a context-manager factory
  that makes the device current around every call, and ``transfer_to(buf, index)`` for direct
  copies between its own devices (otherwise copies go through the host).
* fallback: a missing primitive runs on the cpu backend with ``to_host``/``from_host`` copies
  and ``assign`` to write in-place results back, and is counted in
  ``plugrad.plugins.fallback_report()``.

Optional capability ``checks_indices`` (a backend attribute, default False): deferred index
checks, like CUDA's device-side asserts. Index buffers come straight from users, and checking
them on the host costs a device-to-host read per call, so a device backend may check them in
its kernels instead. Declaring ``checks_indices = True`` promises, for every op in
:data:`INDEX_OPS`:

* memory safety: an index or target outside its axis (``i < 0`` or ``i >= size``; the
  frontend has already wrapped the negative indices torch allows) never makes the kernel read
  or write outside its buffers. A read through it yields 0 (``index`` returns 0 there;
  ``cross_entropy`` reads the picked logit as 0, so that row's loss is its lse, and
  ``cross_entropy_backward`` leaves out the one-hot term); a write through it (``index_put``,
  both modes) is skipped; everything else the call does is done as usual. A target equal
  to ``ignore_index`` is never out of range.
* a per-device error flag: such a call sets the flag of its device, on the device, without
  waiting for the host.
* raising at the next explicit host synchronization: ``to_host`` (which ``.item()``,
  ``.cpu()``, ``.numpy()`` and printing go through) and ``synchronize`` of that device raise
  RuntimeError naming the device and saying that an index was out of bounds in an earlier op
  (torch's "device-side assert triggered"), and reset the flag, so the program may go on;
  ``to_host`` then returns no data. Reading the flag costs at most one small read per check,
  and only when an op of :data:`INDEX_OPS` ran on that device since the last check (a host
  dirty bit), so steady state adds nothing to other ops.

The frontend then skips its own bounds checks on that backend's devices (which would each
read from the device); without the capability, or where a kernel plugin overrides one of
:data:`INDEX_OPS`, it keeps checking every index on the host before the call, raising torch's
IndexError/RuntimeError at once. Host-memory backends are always checked eagerly (it is free
there). Declaring the capability changes no signature, so :data:`API_VERSION` is unchanged.

Versioning: :data:`API_VERSION` names this table's signatures and semantics. A backend
declares the version it implements; a different one is rejected with a message saying which
side to upgrade. Adding an optional kernel does not change it; changing a signature or the
meaning of an op does.
"""
from __future__ import annotations

from dataclasses import dataclass

API_VERSION = 1
"""Version of this contract. A backend declares the version it was written against in
``BackendSpec.api_version``; the registry rejects any other value with a clear error.
Adding optional kernels does not bump it; changing a signature or semantics does."""

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64",
          "float16", "bfloat16", "float32", "float64")
"""Dtype names used across the contract (numpy's spelling, plus ``bfloat16``)."""


@dataclass(frozen=True)
class OpSpec:
    """One entry of the contract.

    Attributes:
        name: the attribute name a backend object exposes.
        tier: ``runtime``, ``primitive`` or ``kernel`` (see module docstring).
        group: family for documentation and reports (``unary``, ``binary``, ``reduce``, ...).
        args: kind of each positional argument, used by the cpu fallback to move data:
            ``buf`` a buffer; ``buf|scalar``; ``bufs`` a sequence of buffers; ``opt_buf`` a
            buffer or None; ``host`` a numpy array; anything else is passed unchanged.
        returns: ``buf``, ``bufs`` (tuple of buffers), ``none``, ``host`` or ``value``.
        doc: the signature and semantics, as the backend author reads them.
    """
    name: str
    tier: str
    group: str
    args: tuple
    returns: str
    doc: str


def _ops():
    specs = []

    def op(name, tier, group, args, returns, doc):
        specs.append(OpSpec(name, tier, group, tuple(args.split()) if args else (), returns, doc))

    # ----------------------------------------------------------------- runtime (required)
    op("device_count", "runtime", "runtime", "", "value",
       "device_count() -> int: number of devices this backend drives (>= 1 when available).")
    op("empty", "runtime", "runtime", "shape dtype device", "buf",
       "empty(shape, dtype, device) -> buf: uninitialised contiguous buffer.")
    op("full", "runtime", "runtime", "shape value dtype device", "buf",
       "full(shape, value, dtype, device) -> buf: contiguous buffer filled with a scalar.")
    op("arange", "runtime", "runtime", "start step n dtype device", "buf",
       "arange(start, step, n, dtype, device) -> buf: 1-D, element i = start + i*step, "
       "computed in float64 (int64 for integer dtypes) and then cast to dtype.")
    op("from_host", "runtime", "runtime", "host device", "buf",
       "from_host(array, device) -> buf: copy a numpy array (any layout) onto the device.")
    op("to_host", "runtime", "runtime", "buf", "host",
       "to_host(buf) -> numpy.ndarray with buf's shape and values. Host-memory backends may "
       "return an array sharing memory with buf.")
    op("copy", "runtime", "runtime", "buf", "buf",
       "copy(x) -> buf: a new C-contiguous buffer with x's values.")
    op("cast", "runtime", "runtime", "buf dtype", "buf",
       "cast(x, dtype) -> buf: a new buffer converted like numpy's astype "
       "(float -> int truncates toward zero).")
    op("assign", "runtime", "runtime", "buf buf|scalar", "none",
       "assign(dst, src) -> None: write src (same dtype, broadcastable) into dst in place; "
       "dst may be a strided view.")
    op("strides", "runtime", "runtime", "buf", "value",
       "strides(x) -> tuple[int]: strides in elements (0 for broadcast axes).")
    op("synchronize", "runtime", "runtime", "device", "none",
       "synchronize(device) -> None: block until all queued work on the device is done.")

    # -------------------------------------------------------------- elementwise unary
    for name, doc in [
        ("neg", "-x"), ("abs", "|x|"), ("sign", "-1, 0 or 1 (0 for 0, nan for nan)"),
        ("exp", "e**x"), ("log", "natural log"), ("log1p", "log(1+x)"), ("expm1", "e**x - 1"),
        ("sqrt", "square root"), ("sin", "sine"), ("cos", "cosine"), ("tan", "tangent"),
        ("tanh", "hyperbolic tangent"), ("sigmoid", "1/(1+e**-x), no overflow warnings"),
        ("asin", "arcsine"), ("acos", "arccosine"), ("atan", "arctangent"),
        ("sinh", "hyperbolic sine"), ("cosh", "hyperbolic cosine"),
        ("erf", "error function, accurate to the dtype"), ("floor", "round down"),
        ("ceil", "round up"), ("round", "round half to even"), ("trunc", "round toward 0"),
        ("reciprocal", "1/x"), ("logical_not", "x == 0, result bool"),
        ("isnan", "x != x, result bool"), ("isinf", "+-inf, result bool"),
        ("bitwise_not", "~x on integer/bool dtypes"),
    ]:
        op(name, "primitive", "unary", "buf", "buf",
           f"{name}(x, out=None) -> buf: {doc}. Float ops receive float dtypes only.")

    # ------------------------------------------------------------- elementwise binary
    for name, doc in [
        ("add", "a + b"), ("sub", "a - b"), ("mul", "a * b"), ("div", "true division (floats)"),
        ("floordiv", "floor(a / b), Python semantics"),
        ("remainder", "Python-style modulo: the result has the sign of b"),
        ("pow", "a ** b"), ("maximum", "elementwise max, nan-propagating"),
        ("minimum", "elementwise min, nan-propagating"), ("atan2", "atan2(a, b)"),
        ("eq", "a == b -> bool"), ("ne", "a != b -> bool"), ("lt", "a < b -> bool"),
        ("le", "a <= b -> bool"), ("gt", "a > b -> bool"), ("ge", "a >= b -> bool"),
        ("logical_and", "-> bool"), ("logical_or", "-> bool"), ("logical_xor", "-> bool"),
        ("bitwise_and", "integer/bool"), ("bitwise_or", "integer/bool"),
        ("bitwise_xor", "integer/bool"),
    ]:
        op(name, "primitive", "binary", "buf|scalar buf|scalar", "buf",
           f"{name}(a, b, out=None) -> buf: {doc}; broadcasts; one side may be a scalar.")

    op("where", "primitive", "ternary", "buf buf|scalar buf|scalar", "buf",
       "where(cond, a, b, out=None) -> buf: cond (bool) ? a : b; broadcasts.")

    # -------------------------------------------------------------------- reductions
    for name, doc in [("sum", "sum"), ("prod", "product"),
                      ("max", "maximum, nan-propagating"), ("min", "minimum, nan-propagating"),
                      ("any", "logical or over bool input"), ("all", "logical and over bool input")]:
        op(name, "primitive", "reduce", "buf axes keepdims", "buf",
           f"{name}(x, axes, keepdims) -> buf: {doc} over the non-empty tuple `axes`; "
           "same dtype as x.")
    for name in ("argmax", "argmin"):
        op(name, "primitive", "reduce", "buf axis keepdims", "buf",
           f"{name}(x, axis, keepdims) -> int64 buf: index of the first extreme value along "
           "one axis (nan counts as the extreme).")
    for name in ("cumsum", "cumprod"):
        op(name, "primitive", "reduce", "buf axis", "buf",
           f"{name}(x, axis) -> buf: inclusive scan along one axis, same dtype.")

    # ------------------------------------------------------------------------- views
    op("reshape", "primitive", "view", "buf shape", "buf",
       "reshape(x, shape) -> buf: a view when x's strides allow it, else a copy.")
    op("permute", "primitive", "view", "buf axes", "buf",
       "permute(x, axes) -> buf: view with axes reordered.")
    op("expand", "primitive", "view", "buf shape", "buf",
       "expand(x, shape) -> buf: read-only broadcast view to shape (same ndim; size-1 "
       "axes stretch with stride 0).")
    op("slice", "primitive", "view", "buf slices", "buf",
       "slice(x, slices) -> buf: view; slices is one (start, stop, step) per axis with "
       "0 <= start <= stop <= size and step >= 1.")

    op("as_strided", "kernel", "view", "buf shape strides offset", "buf",
       "as_strided(x, shape, strides, offset) -> buf: a view (writes reach x) whose element "
       "idx is x's first element + offset + sum(idx[i] * strides[i]), counted in elements; "
       "the caller keeps every element inside x's own extent (torch's diagonal, unfold, "
       "as_strided). Absent: those ops return copies.")

    # --------------------------------------------------------------------- movement
    op("flip", "primitive", "movement", "buf axes", "buf",
       "flip(x, axes) -> buf: a new buffer with the given axes reversed.")
    op("pad", "primitive", "movement", "buf pads value", "buf",
       "pad(x, pads, value) -> buf: pads is one (before, after) pair of non-negative ints "
       "per axis; new elements get the scalar value.")
    op("concat", "primitive", "movement", "bufs axis", "buf",
       "concat(xs, axis) -> buf: join buffers of one dtype along an existing axis.")

    # --------------------------------------------------------------------- indexing
    op("index", "primitive", "indexing", "buf bufs", "buf",
       "index(x, indices) -> buf: numpy advanced indexing x[i0, i1, ...] over the leading "
       "len(indices) axes; indices are int64 buffers, in range, broadcast together; result "
       "shape is broadcast(indices).shape + x.shape[len(indices):].")
    op("index_put", "primitive", "indexing", "buf bufs buf|scalar accumulate", "none",
       "index_put(x, indices, values, accumulate) -> None: in place, x[i0, i1, ...] = values "
       "(or += with accumulate=True, summing duplicate indices); x may be a strided view.")
    op("nonzero", "primitive", "indexing", "buf", "buf",
       "nonzero(x) -> int64 buf of shape (count, x.ndim): coordinates of non-zero elements "
       "in C order.")
    op("sort", "primitive", "indexing", "buf axis descending", "bufs",
       "sort(x, axis, descending) -> (values, int64 indices): stable sort along one axis; "
       "nan sorts as the largest value.")

    # ------------------------------------------------------------ fused kernels (optional)
    op("matmul", "kernel", "linalg", "buf buf", "buf",
       "matmul(a, b) -> buf: a (..., n, k) @ b (..., k, m), both >= 2-D, batch dims "
       "broadcast. Composed from mul+sum when absent.")
    op("conv2d", "kernel", "conv", "buf buf stride padding dilation groups", "buf",
       "conv2d(x, w, stride, padding, dilation, groups) -> buf: cross-correlation, NCHW "
       "input, (Cout, Cin/groups, kh, kw) weight, pairs of ints, no bias.")
    op("conv2d_input_grad", "kernel", "conv", "buf buf shape stride padding dilation groups",
       "buf",
       "conv2d_input_grad(grad, w, x_shape, stride, padding, dilation, groups) -> buf: "
       "gradient of conv2d with respect to its input (a transposed convolution).")
    op("conv2d_weight_grad", "kernel", "conv", "buf buf shape stride padding dilation groups",
       "buf",
       "conv2d_weight_grad(x, grad, w_shape, stride, padding, dilation, groups) -> buf: "
       "gradient of conv2d with respect to its weight.")
    op("addmm_act", "kernel", "linalg", "buf buf buf act", "buf",
       "addmm_act(bias, m1, m2, act) -> buf: act(m1 @ m2 + bias) for 2-D m1 (n, k) and m2 "
       "(k, m), bias broadcastable to (n, m); act is 'none', 'relu' or 'gelu' (erf form). "
       "Lets a GPU backend fuse the bias add and activation into one epilogue after the "
       "GEMM (torch's _addmm_activation). Composed from matmul, add and relu/gelu when absent.")
    op("softmax", "kernel", "activation", "buf axis", "buf",
       "softmax(x, axis) -> buf: exp(x - max) / sum, along one axis.")
    op("log_softmax", "kernel", "activation", "buf axis", "buf",
       "log_softmax(x, axis) -> buf: x - max - log(sum(exp(x - max))), along one axis.")
    op("cross_entropy", "kernel", "loss", "buf buf ignore_index", "bufs",
       "cross_entropy(x, target, ignore_index) -> (loss, lse): x (n, c) float logits, target "
       "(n,) int64 class indices in range (or == ignore_index); loss[i] = lse[i] - x[i, "
       "target[i]] (0 where target[i] == ignore_index) and lse[i] = log(sum(exp(x[i]))), "
       "both (n,) in x's dtype. One pass over the logits instead of log_softmax + gather.")
    op("cross_entropy_backward", "kernel", "loss", "buf buf buf buf ignore_index", "buf",
       "cross_entropy_backward(g, x, target, lse, ignore_index) -> buf: the (n, c) gradient "
       "g[i] * (exp(x[i, j] - lse[i]) - (j == target[i])), 0 in rows whose target is "
       "ignore_index; g is the (n,) gradient of the per-row loss.")
    op("sgd_step", "kernel", "optim", "bufs bufs bufs hyper", "none",
       "sgd_step(params, grads, momentum_bufs, hyper) -> None: one in-place SGD update of "
       "every parameter (multi-tensor); hyper is a dict with lr, momentum, dampening, "
       "weight_decay, nesterov, maximize, first_step. momentum_bufs entries are updated in "
       "place (ignored when momentum is 0).")
    op("adam_step", "kernel", "optim", "bufs bufs bufs bufs opt_bufs hyper", "none",
       "adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper) -> None: one "
       "in-place Adam/AdamW update of every parameter; hyper has lr, beta1, beta2, eps, "
       "weight_decay, decoupled (AdamW), amsgrad, maximize and step (the new step count, "
       "the same for all parameters).")
    op("mt19937_generate", "kernel", "random", "buf pos shape dtype transform params", "buf",
       "mt19937_generate(state, pos, shape, dtype, transform, params) -> buf: continue torch's "
       "CPU random stream (at::mt19937) on the device. `state` is a contiguous int32 buffer of "
       "624 elements holding the MT19937 words (untempered, as in torch's get_state); it is "
       "advanced in place. `pos` (0..624) is the index of the next word; at 624 the state is "
       "twisted (the standard MT19937 recurrence) before the next word. Each word is the "
       "tempered state[pos], then pos += 1; the caller tracks the new pos itself. Elements are "
       "made in C order from consecutive words; `random64` is (first word << 32) | second. "
       "`transform`: 'uniform' with params (low, high), float dtypes: float16/float32 take one "
       "word, x = (w & 0xFFFFFF) * 2**-24, and unless (low, high) == (0, 1) "
       "x = fma(x, float32(high) - float32(low), float32(low)) in float32, rounded once; then "
       "cast to dtype (nearest even), and an element equal to dtype(high) becomes dtype(low) "
       "(always checked for float16, only with non-default bounds for float32). float64 takes "
       "two words, x = (random64 & (2**53 - 1)) * 2**-53, and with non-default bounds "
       "x = fma(x, high - low, low) in float64, x == high becoming low. 'integer' with params "
       "(bits, span, base): bits 32 takes one word w (span < 2**32), bits 64 random64; "
       "r = (w % span if span else w) + base modulo 2**64, read as int64 and cast like numpy's "
       "astype (float16 through float32). 'bernoulli' with params (threshold,): two words, "
       "1 if (random64 & (2**53 - 1)) < threshold else 0, in dtype (threshold = "
       "ceil(p * 2**53) gives torch's `uniform < p`). 'normal' with params (mean, std), "
       "float16/float32, numel n >= 16: torch's normal_fill_16_AVX2 -- n float32 uniforms u "
       "as above (plus 16 more when n % 16 and float32, or 16 - n % 16 more for float16); per "
       "row of 16, r = sqrt(-2 * log(1 - u[j])), t = 2*pi * u[j + 8], out[j] = r * cos(t), "
       "out[j + 8] = r * sin(t) for j < 8, with avx_mathfun's log/sincos in float32 and the "
       "multiply-adds fused exactly where plugrad.random.avx_mathfun fuses them (see "
       "backends/mt19937_normal.py), then fma(v, std, mean) (v + 0 when std == 1 and mean "
       "== +0); when n % 16 the last 16 outputs are recomputed from u[n:n+16] (float32) or "
       "u[n - n % 16:][:16] (float16); cast to dtype. Returns a new C-contiguous buffer of "
       "`shape` and `dtype`. Absent: random ops draw on the host and upload.")
    return {s.name: s for s in specs}


OPS: dict[str, OpSpec] = _ops()
RUNTIME = tuple(n for n, s in OPS.items() if s.tier == "runtime")
PRIMITIVES = tuple(n for n, s in OPS.items() if s.tier == "primitive")
KERNELS = tuple(n for n, s in OPS.items() if s.tier == "kernel")
INDEX_OPS = ("index", "index_put", "cross_entropy", "cross_entropy_backward")
"""The ops that take caller-given indices or class targets: the ones a backend declaring
``checks_indices`` guards on the device (see the module docstring)."""
