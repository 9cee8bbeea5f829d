"""torch's default DDP communication hooks: plain all-reduce and compressed all-reduce.

Each takes ``(process_group, bucket)`` -- register with ``ddp.register_comm_hook(pg, hook)``,
``pg`` None for the default group -- and returns a future of the bucket's averaged gradients.
"""
from __future__ import annotations

from .... import _dtype as D
from ... import collectives as C
from ..._world import resolve


def _size(process_group):
    return resolve(process_group).size()


def allreduce_hook(process_group, bucket):
    """Divide by the world size, then sum over ranks (what DDP does without a hook)."""
    tensor = bucket.buffer()
    tensor.div_(_size(process_group))
    work = C.all_reduce(tensor, group=process_group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


def _compress_hook(dtype, process_group, bucket):
    buffer = bucket.buffer()
    compressed = buffer.to(dtype).div_(_size(process_group))
    work = C.all_reduce(compressed, group=process_group, async_op=True)

    def decompress(fut):
        buffer.copy_(fut.value()[0])        # back to the gradients' dtype
        return buffer
    return work.get_future().then(decompress)


def fp16_compress_hook(process_group, bucket):
    """All-reduce the bucket in float16 (half the bytes), then cast back."""
    return _compress_hook(D.float16, process_group, bucket)


def bf16_compress_hook(process_group, bucket):
    """All-reduce the bucket in bfloat16, then cast back."""
    return _compress_hook(D.bfloat16, process_group, bucket)
