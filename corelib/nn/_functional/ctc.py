"""ctc_loss: the connectionist temporal classification loss as one autograd node.

The forward is the log-space alpha recursion over the extended label sequence (blank, l1,
blank, l2, ..., blank), one step per time frame and vectorised over the batch and the label
positions; the backward runs the beta recursion the same way and returns torch's gradient
(aten/src/ATen/native/LossCTC.cpp):

    d loss / d log_probs[t, n, c] = exp(log_probs[t, n, c])
                                    - exp(logsumexp_{s: l'_s = c} (alpha_t(s) + beta_t(s))
                                          + nll_n - log_probs[t, n, c])

for t below the sample's input length and 0 after it. (That is the gradient through an
implicit log_softmax: it equals the gradient of the composed loss once log_probs come from
log_softmax, which is how CTC is used, and it is what torch returns for a leaf.) Both
recursions are Python loops over time whose steps are a few whole-batch tensor ops.
"""
from __future__ import annotations

import math

from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...autograd.node import Node
from ...ops._graph import attach, edge, needs_grad
from ...ops.creation import tensor
from ...ops.gather import where
from ...ops.movement import constant_pad, stack
from .loss import _check_reduction

__all__ = ["ctc_loss"]

_NEG = -math.inf


def _lse(*terms):
    """Elementwise log(sum(exp(terms))) that stays -inf when every term is -inf."""
    m = terms[0]
    for t in terms[1:]:
        m = m.maximum(t)
    safe = where(m == _NEG, 0.0, m)
    total = None
    for t in terms:
        e = (t - safe).exp()
        total = e if total is None else total + e
    return total.log() + safe


def _shift(x, k):
    """x[..., s - k] along the last dim (-inf shifted in)."""
    return constant_pad(x, [k, 0], _NEG)[..., :x.shape[-1]]


def _unshift(x, k):
    """x[..., s + k] along the last dim (-inf shifted in)."""
    return constant_pad(x, [0, k], _NEG)[..., k:]


def _lengths(value, name):
    if isinstance(value, Tensor):
        return [int(v) for v in value.reshape(-1).tolist()]
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


class CtcLossBackward0(Node):
    """Gradient of the per-sample negative log likelihoods with respect to log_probs."""
    __slots__ = ("log_probs", "extended", "lpl", "alpha", "nll", "input_lengths",
                 "target_lengths", "zero_infinity", "blank")

    def _drop(self):
        self.log_probs = self.lpl = self.alpha = None

    def backward(self, g):
        with no_grad():
            grad = _ctc_grad(self)
            scale = g.reshape(1, -1, 1)
            if self.zero_infinity:
                finite = (self.nll != math.inf).reshape(1, -1, 1)
                grad = where(finite, grad, 0.0)
            return ((grad * scale).detach(),)


def _ctc_grad(node):
    lp, ext, lpl, alpha = node.log_probs, node.extended, node.lpl, node.alpha
    steps, batch, classes = lp.shape
    width = ext.shape[1]
    lengths = node.input_lengths
    tlen = node.target_lengths
    dev, dt = lp.device, lp.dtype
    last = tensor([2 * s for s in tlen], dtype=D.int64, device=dev)
    positions = tensor(list(range(width)), dtype=D.int64, device=dev).unsqueeze(0)
    at_end = (positions == last.unsqueeze(1)) | ((positions == (last - 1).unsqueeze(1)) &
                                                 (last.unsqueeze(1) > 0))
    skip = _skip_allowed(ext, node.blank)
    skip_next = constant_pad(skip, [0, 2], False)[:, 2:]            # may s jump to s + 2
    betas = [None] * steps
    beta = lp.new_full((batch, width), _NEG)
    for t in range(steps - 1, -1, -1):
        starts = tensor([t == n - 1 for n in lengths], device=dev).unsqueeze(1)
        running = tensor([t < n - 1 for n in lengths], device=dev).unsqueeze(1)
        init = where(at_end, lpl[t], _NEG)
        b3 = where(skip_next, _unshift(beta, 2), _NEG)
        step = lpl[t] + _lse(beta, _unshift(beta, 1), b3)
        beta = where(starts, init, where(running, step, _NEG))
        betas[t] = beta
    ab = alpha + stack(betas, 0)                                        # (T, N, S')
    mx = ab.max(2, keepdim=True)[0]
    mx = where(mx == _NEG, 0.0, mx)
    summed = lp.new_zeros((steps, batch, classes)).scatter_add(
        2, ext.unsqueeze(0).expand(steps, batch, width), (ab - mx).exp())
    lcab = summed.log() + mx
    nll = node.nll.reshape(1, batch, 1)
    grad = lp.exp() - (lcab + nll - lp).exp()
    active = tensor([[t < n for n in lengths] for t in range(steps)], device=dev).unsqueeze(2)
    return where(active, grad, 0.0).to(dt)


def _skip_allowed(ext, blank):
    """l'_s != blank and l'_s != l'_{s-2}: the recursion may skip a blank into s."""
    prev2 = constant_pad(ext, [2, 0], blank)[:, :ext.shape[1]]
    return (ext != blank) & (ext != prev2)


def _padded_targets(targets, target_lengths, batch):
    """(N, S_max) int64 targets from the padded or concatenated layout."""
    smax = max(target_lengths) if target_lengths else 0
    if targets.ndim == 1:
        rows, start = [], 0
        values = targets.long()
        for n in target_lengths:
            row = values[start:start + n]
            start += n
            if n < smax:
                row = constant_pad(row, [0, smax - n], 0)
            rows.append(row)
        return stack(rows, 0) if rows else values.reshape(batch, 0)
    return targets.long()[:, :smax]


def _check(log_probs, targets, input_lengths, target_lengths, blank, batch, classes, steps):
    if len(input_lengths) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    for n in input_lengths:
        if n > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got "
                               f"value {n} (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        if n < 0:
            raise RuntimeError("input_lengths must be non-negative")
    if targets.ndim == 1:
        total = sum(target_lengths)
        if targets.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got "
                               f"size {targets.shape[0]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
    else:
        longest = max(target_lengths) if target_lengths else 0
        if targets.shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension "
                               f"1, but got size {targets.shape[1]} for argument #2 'targets' "
                               "(while checking arguments for ctc_loss_allocate_outputs)")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of log_probs (T, N, C) (or (T, C)) against targets (N, S) padded or 1-D
    concatenated. ``mean`` divides each loss by its target length, then averages."""
    _check_reduction(reduction)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.ndim == 1:
            targets = targets.unsqueeze(0)
    in_lens = _lengths(input_lengths, "input_lengths")
    tgt_lens = _lengths(target_lengths, "target_lengths")
    steps, batch, classes = log_probs.shape
    _check(log_probs, targets, in_lens, tgt_lens, blank, batch, classes, steps)
    nll = _ctc_forward(log_probs, targets, in_lens, tgt_lens, blank, zero_infinity)
    if zero_infinity:
        nll = where(nll == math.inf, 0.0, nll)
    if reduction == "none":
        return nll.squeeze(0) if unbatched else nll
    if reduction == "sum":
        return nll.sum()
    div = tensor([float(max(n, 1)) for n in tgt_lens], dtype=log_probs.dtype,
                 device=log_probs.device)
    return (nll / div).mean()


def _ctc_forward(log_probs, targets, in_lens, tgt_lens, blank, zero_infinity):
    steps, batch, classes = log_probs.shape
    dev = log_probs.device
    with no_grad():
        lp = log_probs.detach()
        padded = _padded_targets(targets.detach(), tgt_lens, batch).to(dev)
        smax = padded.shape[1]
        width = 2 * smax + 1
        ext = lp.new_full((batch, width), blank, dtype=D.int64)
        if smax:
            ext[:, 1::2] = padded
        lpl = lp.gather(2, ext.unsqueeze(0).expand(steps, batch, width))   # (T, N, S')
        positions = tensor(list(range(width)), dtype=D.int64, device=dev).unsqueeze(0)
        tl = tensor(tgt_lens, dtype=D.int64, device=dev).unsqueeze(1)
        valid = positions <= 2 * tl
        skip = _skip_allowed(ext, blank)
        first = (positions == 0) | ((positions == 1) & (tl > 0))
        alpha = where(first & valid, lpl[0], _NEG) if steps else lp.new_full((batch, width),
                                                                               _NEG)
        alphas = [alpha]
        for t in range(1, steps):
            a3 = where(skip, _shift(alpha, 2), _NEG)
            alpha = where(valid, lpl[t] + _lse(alpha, _shift(alpha, 1), a3), _NEG)
            alphas.append(alpha)
        alpha_all = stack(alphas, 0) if steps else lp.new_full((0, batch, width), _NEG)
        # the loss of sample n reads alpha at its last frame, at its last two positions
        ends = []
        for n, (t_len, s_len) in enumerate(zip(in_lens, tgt_lens)):
            if t_len == 0:         # no frames: an empty target costs 0, any other is impossible
                ends.append(tensor([_NEG if s_len else 0.0, _NEG], dtype=lp.dtype,
                                   device=dev))
                continue
            row = alpha_all[t_len - 1, n]
            ends.append(stack([row[2 * s_len], row[2 * s_len - 1] if s_len else
                               lp.new_full((), _NEG)]))
        end = stack(ends, 0)
        nll = -_lse(end[:, 0], end[:, 1])
    if needs_grad(log_probs):
        node = CtcLossBackward0((edge(log_probs),))
        node.log_probs, node.extended, node.lpl, node.alpha = lp, ext, lpl, alpha_all
        node.nll, node.input_lengths, node.target_lengths = nll, in_lens, tgt_lens
        node.zero_infinity, node.blank = zero_infinity, blank
        nll = attach(nll.detach(), node)
    return nll
