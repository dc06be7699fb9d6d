#!/usr/bin/env python3
"""PyTorch on the same sizes as embedkit_gpu_bench (bench/gpu/gpu_bench.cpp), for comparison.

Run on the GPU machine (needs a CUDA build of PyTorch):

    python3 bench/gpu/torch_peer.py [--rows N] [--batch N] [--bag L] [--cache N]
                                    [--host-rows N] [--iters K] [--json]

For D in {64, 128, 256}, float32 tables of --rows rows and --batch uniform int64 ids:
  copy          1 GiB device-to-device copy (read + write counted)
  gather        F.embedding(ids, weight)
  bag_sum       F.embedding_bag(ids, weight, offsets, mode="sum"), bags of --bag ids
  step_<opt>    the forward's backward with sparse=True (a row-sparse gradient), then
                optimizer.step() for SGD, Adagrad and SparseAdam (what the fused step replaces;
                PyTorch has no row-wise Adagrad)
  host_table    the table in pinned host memory, Zipf(1.05) batches of min(--batch, 65536) ids:
                index_select on the CPU, then a non-blocking copy to the GPU
Each timing is the mean over --iters runs after a warm-up, with torch.cuda.synchronize() around.
--device cpu runs the same code on the CPU with small sizes: a check that the script works, not
a comparison.
"""

import argparse
import json
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1 << 20)
    p.add_argument("--batch", type=int, default=1 << 20)
    p.add_argument("--bag", type=int, default=20)
    p.add_argument("--cache", type=int, default=1 << 18, help="unused by PyTorch; kept for symmetry")
    p.add_argument("--host-rows", type=int, default=1 << 24)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.add_argument("--device", default="cuda",
                   help="cuda (the comparison); cpu only checks that the script runs")
    a = p.parse_args()

    import torch
    import torch.nn.functional as F

    if a.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device visible to PyTorch", file=sys.stderr)
        return 2
    dev = torch.device(a.device)
    on_gpu = dev.type == "cuda"

    def sync():
        if on_gpu:
            torch.cuda.synchronize()

    def pinned(t):
        return t.pin_memory() if on_gpu else t

    def timed(fn):
        fn()
        sync()
        t0 = time.perf_counter()
        for _ in range(a.iters):
            fn()
        sync()
        return (time.perf_counter() - t0) / a.iters

    rows = []
    copy_bytes = 1 << 30
    src = torch.empty(copy_bytes, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    s = timed(lambda: dst.copy_(src))
    copy_gbps = 2 * copy_bytes / s / 1e9
    rows.append({"op": "copy", "dim": 0, "ms": s * 1e3, "gbps": copy_gbps, "pct_copy": 100.0})

    def add(op, dim, s, nbytes, note=""):
        gbps = nbytes / s / 1e9
        rows.append({"op": op, "dim": dim, "ms": s * 1e3, "gbps": gbps,
                     "pct_copy": 100.0 * gbps / copy_gbps, "note": note})

    g = torch.Generator(device="cpu").manual_seed(2)
    for dim in (64, 128, 256):
        rb = dim * 4
        weight = torch.rand(a.rows, dim, device=dev) * 2 - 1
        ids = torch.randint(0, a.rows, (a.batch,), generator=g).to(dev)
        n = a.batch
        s = timed(lambda: F.embedding(ids, weight))
        add("gather", dim, s, n * (2 * rb + 8))

        bags = a.batch // a.bag
        bag_ids = torch.randint(0, a.rows, (bags * a.bag,), generator=g).to(dev)
        offsets = torch.arange(0, bags * a.bag, a.bag, device=dev)
        s = timed(lambda: F.embedding_bag(bag_ids, weight, offsets, mode="sum"))
        add("bag_sum", dim, s, bags * a.bag * (rb + 8) + bags * (rb + 8), "bags of %d" % a.bag)

        grad = torch.rand(a.batch, dim, device=dev)
        unique = int(torch.unique(ids).numel())
        for name, make, state_rows in (
            ("step_sgd", lambda p: torch.optim.SGD([p], lr=0.01), 0),
            ("step_adagrad", lambda p: torch.optim.Adagrad([p], lr=0.01), 1),
            ("step_sparse_adam", lambda p: torch.optim.SparseAdam([p], lr=0.001), 2),
        ):
            param = torch.nn.Parameter(weight.clone())
            opt = make(param)

            def step():
                opt.zero_grad(set_to_none=True)
                out = F.embedding(ids, param, sparse=True)
                out.backward(grad)
                opt.step()

            s = timed(step)
            add(name, dim, s, n * (rb + 8) + unique * 2 * rb * (1 + state_rows),
                "%d distinct rows; forward included" % unique)

    dim = 128
    batch = min(a.batch, 1 << 16)
    host = pinned(torch.rand(a.host_rows, dim))
    s_exp = 1.05
    u = torch.rand(a.iters + 1, batch, generator=g, dtype=torch.float64)
    amax = float(a.host_rows) ** (1 - s_exp)
    rank = ((1 - u * (1 - amax)) ** (1 / (1 - s_exp))).long().clamp(1, a.host_rows) - 1
    # The C++ side's scatter: rank * 0x9E3779B97F4A7C15 mod 2^64 (as a wrapped int64 here), then
    # mod rows; torch's % is non-negative for a positive divisor. The same distribution, though
    # not bit-identical ids (the C++ remainder is taken on the unsigned value).
    zipf = (rank * (0x9E3779B97F4A7C15 - (1 << 64))) % a.host_rows
    staging = pinned(torch.empty(batch, dim))
    it = {"k": 0}

    def lookup():
        k = it["k"] % (a.iters + 1)
        it["k"] += 1
        torch.index_select(host, 0, zipf[k], out=staging)
        return staging.to(dev, non_blocking=True)

    s = timed(lookup)
    add("host_table", dim, s, batch * dim * 4, "%d rows on host, index_select on CPU + copy" % a.host_rows)

    if a.json:
        print(json.dumps(rows, indent=2))
    else:
        print("%-24s %5s %10s %10s %8s  %s" % ("op", "D", "ms", "GB/s", "% copy", "note"))
        for r in rows:
            print("%-24s %5d %10.4f %10.1f %8.1f  %s" % (r["op"], r["dim"], r["ms"], r["gbps"],
                                                         r["pct_copy"], r.get("note", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
