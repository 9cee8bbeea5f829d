"""``torch.nn.utils.rnn``: variable-length batches for recurrent layers.

A :class:`PackedSequence` holds the steps of B sequences time-major, longest first: step t
contributes its first ``batch_sizes[t]`` rows (the sequences still running), so an RNN runs
each step on exactly the sequences that have it. Packing and padding are compositions of
slicing and ``cat``, so gradients reach the padded input.
"""
from __future__ import annotations

from collections import namedtuple

from ... import _dtype as D
from ...ops.creation import full, tensor
from ...ops.movement import cat, stack

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    return permutation.argsort()          # position of each index = its inverse


class PackedSequence(_PackedSequenceBase):
    """Data and batch sizes of a packed batch of sequences (torch's namedtuple layout).

    ``batch_sizes`` is always an int64 tensor on the cpu; ``sorted_indices`` orders the
    original batch by decreasing length and ``unsorted_indices`` undoes it (both None when the
    batch was already sorted).
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU. Instances of "
                                 "PackedSequence should never be created manually. They should "
                                 "be instantiated by functions like pack_sequence and "
                                 "pack_padded_sequences in nn.utils.rnn. "
                                 "https://pytorch.org/docs/stable/nn.html"
                                 "#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not isinstance(data, (list, tuple)) or len(data) != 2:
            raise ValueError(f"Expected a (data, batch_sizes) pair, but got {type(data)}")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        """The data moved/cast as ``Tensor.to``; the indices follow the data's device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda t: None if t is None else t.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def double(self):
        return self.to(dtype=D.float64)

    def float(self):
        return self.to(dtype=D.float32)

    def half(self):
        return self.to(dtype=D.float16)

    def long(self):
        return self.to(dtype=D.int64)

    def int(self):
        return self.to(dtype=D.int32)

    def short(self):
        return self.to(dtype=D.int16)

    def char(self):
        return self.to(dtype=D.int8)

    def byte(self):
        return self.to(dtype=D.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return self.data.is_pinned()


# ------------------------------------------------------------------------------- packing

def _lengths_list(lengths):
    from ..._tensor import Tensor
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            kind = {"int64": "Long", "int32": "Int", "float32": "Float",
                    "float64": "Double"}.get(lengths.dtype.name, lengths.dtype.name)
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.ndim}D {lengths.device.type} {kind} tensor")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def _pack_sorted(input, lengths):
    """Time-major ``input`` (T, B, *) whose lengths decrease -> (data, batch_sizes list)."""
    if any(n <= 0 for n in lengths):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if lengths[0] > input.shape[0]:
        raise RuntimeError(f"Expected the longest length ({lengths[0]}) to be at most the "
                           f"padded input's sequence length ({input.shape[0]})")
    sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    data = cat([input[t, :b] for t, b in enumerate(sizes)], 0)
    return data, sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences of the given
    lengths. With ``enforce_sorted=False`` the batch may come in any order."""
    lengths = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    if len(lengths) != input.shape[batch_dim]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={input.shape[batch_dim]})")
    sorted_indices = None
    if not enforce_sorted:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])   # stable, as torch
        sorted_indices = tensor(order, dtype=D.int64, device=input.device)
        lengths = [lengths[i] for i in order]
        input = input.index_select(batch_dim, sorted_indices)
    elif any(a < b for a, b in zip(lengths, lengths[1:])) and all(n > 0 for n in lengths):
        _pack_sorted(input, lengths)            # raises torch's "must be sorted" error
    if batch_first:
        input = input.transpose(0, 1)
    data, sizes = _pack_sorted(input, lengths)
    return PackedSequence(data, tensor(sizes, dtype=D.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: (padded (T, B, *), lengths) in the original batch
    order; ``total_length`` pads T further (e.g. to the length a DataParallel replica had)."""
    data, sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
    rows, start = [], 0
    tail = tuple(data.shape[1:])
    for b in sizes:
        step = data[start:start + b]
        start += b
        if b < batch:
            step = cat([step, full((batch - b,) + tail, padding_value, dtype=data.dtype,
                                   device=data.device)], 0)
        rows.append(step)
    if total_length is not None and total_length > steps:
        rows += [full((batch,) + tail, padding_value, dtype=data.dtype, device=data.device)] * \
            (total_length - steps)
    padded = stack(rows, 0)
    lengths = [sum(1 for s in sizes if s > i) for i in range(batch)]
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        padded = padded.index_select(batch_dim, sequence.unsorted_indices)
        order = sequence.unsorted_indices.tolist()
        lengths = [lengths[i] for i in order]
    return padded, tensor(lengths, dtype=D.int64)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (max L, B, *) (``batch_first``: (B, max L, *)),
    padded with ``padding_value`` on ``padding_side``."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    from ..._tensor import Tensor
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    tail = tuple(sequences[0].shape[1:])
    rows = []
    for s in sequences:
        if tuple(s.shape[1:]) != tail:
            shape = [s.shape[0], *tail]
            raise RuntimeError(f"output with shape {shape} doesn't match the broadcast shape "
                               f"{list(s.shape)}")
        missing = longest - s.shape[0]
        if missing:
            pad = full((missing,) + tail, padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch (inverse of :func:`pad_sequence`)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:n] for seq, n in zip(padded_sequences.unbind(0), _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) tensors (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a :class:`PackedSequence` holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def packed_steps(batch_sizes):
    """(start, size) of every time step's rows in a packed ``data`` tensor."""
    out, start = [], 0
    for b in batch_sizes:
        out.append((start, b))
        start += b
    return out

