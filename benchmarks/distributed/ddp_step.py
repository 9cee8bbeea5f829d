"""DDP training step vs the single-process step, for a small GPT (nanoGPT's shape).

    python benchmarks/distributed/ddp_step.py                    # 1 process: the baseline
    mpiexec -n 2 python benchmarks/distributed/ddp_step.py       # 2 ranks, same per-rank batch

Model: 2 transformer blocks (causal self-attention through F.scaled_dot_product_attention,
GELU MLP, pre-LayerNorm), d_model 128, 4 heads, vocab 512, context 64, per-rank batch 8;
AdamW. Each rank runs one thread. Prints the median step time in ms; with several ranks also
the communication share: (DDP step - single step) / single step, and the same model stepped
without DDP in the same processes (so both numbers see the same machine load).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import plugrad as torch  # noqa: E402
import plugrad.distributed as dist  # noqa: E402
from plugrad import nn  # noqa: E402
from plugrad.nn import functional as F  # noqa: E402


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, vocab=512, context=64, d=128, heads=4, layers=2):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.Sequential(*[Block(d, heads) for _ in range(layers)])
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        logits = self.head(self.ln(self.blocks(x)))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def step_time(model, batch, steps):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    idx, targets = batch
    times = []
    for i in range(steps + 2):
        if dist.is_initialized():
            dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        model(idx, targets).backward()
        opt.step()
        if i >= 2:                      # two warm-up steps
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--batch", type=int, default=8)
    args = p.parse_args()
    launched = any(k in os.environ for k in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "RANK"))
    if launched:
        dist.init_process_group("mpi")
    rank = dist.get_rank() if launched else 0
    world = dist.get_world_size() if launched else 1
    torch.manual_seed(rank)
    batch = (torch.randint(0, 512, (args.batch, 64)), torch.randint(0, 512, (args.batch, 64)))
    torch.manual_seed(0)
    model = GPT()
    params = sum(p.numel() for p in model.parameters())
    single = step_time(model, batch, args.steps)
    line = f"GPT {params / 1e6:.2f}M params, batch {args.batch}x64 per rank: single-process " \
           f"step {single * 1e3:.1f} ms"
    if launched and world > 1:
        ddp = nn.parallel.DistributedDataParallel(model)
        both = step_time(ddp, batch, args.steps)
        line += (f"; DDP step at {world} ranks {both * 1e3:.1f} ms ({both / single:.2f}x, "
                 f"{world * args.batch / both:.0f} vs {args.batch / single:.0f} samples/s)")
    if rank == 0:
        print(line, flush=True)
    if launched:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
