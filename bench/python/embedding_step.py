#!/usr/bin/env python3
"""embedkit's embedding forward and fused backward of a train_step.py model, timed alone.

Builds the model's tables and batches as train_step.py does, then times the embeddings' forward
(`bags(features)`) and backward (`out.backward(grad)`: the fused update) apart, without the dense
layers: median ms of `--calls` calls, over batches cycled as in training and over the same batch
every call (its rows then in cache). `--table` says where the tables lie: `module` (the modules
build them: embedkit's memory, huge pages from 32 MiB up), `torch` (`from_pretrained` over
torch's tensors, 4 KiB pages) or `huge` (`from_pretrained` over a copy on madvised huge pages,
harness.huge_page_clone). BENCHMARKS.md, "Tables on huge pages, and D = 100 in one pass".

  PYTHONPATH=build-bench/python OMP_WAIT_POLICY=passive \\
      /usr/bin/python3 bench/python/embedding_step.py text sgd --threads 1 --table torch
"""

import argparse
import statistics
import time

import torch

import embedkit
import embedkit.torch as ekt
import embedkit_side
import harness
import train_step


def bags_over(weights, mode, optimizer, lr, table):
    if table == "module":
        return embedkit_side.EmbedkitBags(weights, mode, optimizer, lr)
    if len(weights) != 1:
        raise SystemExit("--table torch/huge: one table (the text model) only")
    weight = weights.pop()
    if table == "huge":
        weight = harness.huge_page_clone(weight)
    module = ekt.FusedEmbeddingBag.from_pretrained(
        weight, freeze=False, mode=mode, optimizer=embedkit_side.FUSED_OPTIMIZER[optimizer],
        optimizer_kwargs={"lr": lr})
    return lambda features: module(features[0].ids, features[0].offsets)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", choices=list(train_step.BUILDERS))
    ap.add_argument("optimizer", choices=["sgd", "approx_sgd", "adagrad", "sparse_adam"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--table", choices=["module", "torch", "huge"], default="module")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="train_step.py's small tables")
    args = ap.parse_args(argv)

    cfg = (train_step.QUICK if args.quick else train_step.FULL)[args.model]
    data, _, weights, _, mode, _ = train_step.BUILDERS[args.model](cfg, args.optimizer)
    bags = bags_over(weights, mode, args.optimizer, cfg["lr"][args.optimizer], args.table)
    harness.set_threads(args.threads)
    batches = data.batches
    grads = []
    for b in batches:  # one untimed pass: the fixed output gradients, and a warm-up
        out = bags(b.features)
        grads.append(torch.randn_like(out) * 1e-3)
        out.backward(grads[-1])

    def timed(same):
        forward, backward = [], []
        for i in range(args.calls):
            k = 0 if same else i % len(batches)
            t0 = time.perf_counter()
            out = bags(batches[k].features)
            t1 = time.perf_counter()
            out.backward(grads[k])
            forward.append(t1 - t0)
            backward.append(time.perf_counter() - t1)
        return statistics.median(forward) * 1e3, statistics.median(backward) * 1e3

    print(f"{args.model} {args.optimizer}, {args.threads} thread(s), tables: {args.table}, "
          f"embedkit {embedkit.__version__}")
    results = []
    for _ in range(args.repeats):
        for same in (False, True):
            f, b = timed(same)
            results.append((same, f, b))
            print(f"  {'same batch' if same else 'cycled':10}  forward {f:.3f} ms  "
                  f"backward {b:.3f} ms")
    return bags, results


if __name__ == "__main__":
    main()
