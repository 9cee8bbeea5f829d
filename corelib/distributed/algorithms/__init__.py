"""``plugrad.distributed.algorithms``: DDP communication hooks (torch's module layout)."""
