#!/usr/bin/env python3
"""Training steps per second on the CPU: PyTorch's sparse EmbeddingBag + torch.optim against
embedkit's fused modules (embedkit.torch), same model, same data, same threads, one run.

Two models (issue 15, "Fused training inside a PyTorch model"):

- dlrm: a DLRM-style click model: 8 tables of 1M x 64 (mode 'sum'), one bag of 20 ids per table
  and sample (Zipf(1.05) ids), batch 2048, the pooled rows concatenated into a 512-256-1 MLP,
  BCE-with-logits loss.
- text: a fastText-style classifier: one EmbeddingBag (mode 'mean', dim 100) over 200K words and
  fastText's 2M bigram buckets, lines of 5-40 words (Zipf(1.0)) plus their bigrams, batch 256,
  a linear layer to 4 classes, cross-entropy loss.

Each is trained with SGD and Adagrad (and the text model with SparseAdam; the DLRM tables would
need 12 GiB for it), on both sides from the same initial weights and on the same batches, in
interleaved samples (harness.py). Adagrad on the DLRM model uses tables of 500K rows, so that
the two sides' tables and Adagrad state stay within 4 GiB. After the timed steps the two sides
have taken the same steps on the same batches, so their losses and weights are printed side by
side: they must agree to rounding. Then each side's step is timed again cut into phases (where
the time goes).

  PYTHONPATH=build/python /usr/bin/python3 bench/python/train_step.py [--quick] [--threads 1,2]

`--contender torch` runs PyTorch against a second copy of itself: the harness's own noise (the
ratio should be 1). `--contender torch-reversed` also reverses the order of the ids in every bag
on the second side: the same sums rounded differently, which shows how far two exact
implementations drift apart with each optimizer. Results: --json and --markdown.
"""

import argparse
import gc
import statistics
import sys
import time

import torch

import harness
import models
import synthetic

FULL = {
    "dlrm": dict(rows=1_000_000, adagrad_rows=500_000, tables=8, dim=64, bag=20, batch=2048,
                 hidden=[256], batches=32, samples=16, per_sample=2, warmup=3,
                 lr={"sgd": 0.01, "approx_sgd": 0.01, "adagrad": 0.01}),
    "text": dict(words=200_000, buckets=2_000_000, dim=100, classes=4, batch=256, batches=64,
                 samples=16, per_sample=20, warmup=10,
                 lr={"sgd": 0.5, "approx_sgd": 0.5, "adagrad": 0.1, "sparse_adam": 0.001}),
}
QUICK = {
    "dlrm": dict(FULL["dlrm"], rows=100_000, adagrad_rows=100_000, batches=8, samples=4,
                 per_sample=2, warmup=2),
    "text": dict(FULL["text"], words=20_000, buckets=200_000, batches=16, samples=4,
                 per_sample=10, warmup=5),
}


def build_dlrm(cfg, optimizer):
    rows = cfg["adagrad_rows"] if optimizer == "adagrad" else cfg["rows"]
    data = synthetic.dlrm_data(rows, cfg["tables"], cfg["bag"], cfg["batch"], cfg["batches"])
    torch.manual_seed(0)
    head = models.dlrm_head(cfg["tables"], cfg["dim"], cfg["hidden"])
    # DLRM's initialisation of its tables: U(-sqrt(1/rows), sqrt(1/rows)).
    weights = models.uniform_tables(cfg["tables"], rows, cfg["dim"], (1.0 / rows) ** 0.5, seed=1)
    shape = dict(tables=cfg["tables"], rows=rows, dim=cfg["dim"], mode="sum", bag=cfg["bag"],
                 batch=cfg["batch"], mlp=[cfg["tables"] * cfg["dim"], *cfg["hidden"], 1])
    return data, head, weights, torch.nn.BCEWithLogitsLoss(), "sum", shape


def build_text(cfg, optimizer):
    data = synthetic.text_data(cfg["words"], cfg["buckets"], cfg["classes"], cfg["batch"],
                               cfg["batches"])
    torch.manual_seed(0)
    head = models.text_head(cfg["dim"], cfg["classes"])
    # fastText's initialisation of its input table: U(-1/dim, 1/dim).
    weights = models.uniform_tables(1, data.rows, cfg["dim"], 1.0 / cfg["dim"], seed=1)
    ids = [len(b.features[0].ids) for b in data.batches]
    shape = dict(tables=1, rows=data.rows, dim=cfg["dim"], mode="mean", batch=cfg["batch"],
                 ids_per_batch=statistics.mean(ids), classes=cfg["classes"])
    return data, head, weights, torch.nn.CrossEntropyLoss(), "mean", shape


BUILDERS = {"dlrm": build_dlrm, "text": build_text}
CONTENDER_NAMES = {"embedkit": "embedkit", "torch": "torch (copy)",
                   "torch-reversed": "torch (bags reversed)"}


def weight_differences(a, b, tolerance=1e-5):
    """The largest |a - b| over the tables, and how many elements differ by more than
    `tolerance`."""
    largest, count, total = 0.0, 0, 0
    for x, y in zip(a, b):
        # In blocks of rows: the whole difference of a big table would be one more copy of it.
        for start in range(0, x.shape[0], 65536):
            d = (x.detach()[start:start + 65536] - y.detach()[start:start + 65536]).abs_()
            largest = max(largest, float(d.max()))
            count += int(torch.count_nonzero(d > tolerance))
            total += d.numel()
    return {"max_weight_difference": largest, "weights_differing": count,
            "weights_differing_tolerance": tolerance, "weights_total": total}


def run_case(model, optimizer, cfg, threads, contender, torch_huge_pages=False):
    # Nothing of the previous case (were any of it held in a reference cycle) may be alive when
    # this case allocates its tables: the peak memory is measured per case.
    gc.collect()
    harness.reset_peak_rss()
    data, head, weights, loss_fn, mode, shape = BUILDERS[model](cfg, optimizer)
    lr = cfg["lr"][optimizer]
    names = ["torch", CONTENDER_NAMES[contender]]
    # The contender takes the initial tables over first (the fused collection copies them into
    # its own, freeing each as it goes); torch then copies them back from it before any step.
    # So at most two copies of the tables (plus one table) are alive at any time.
    side = "embedkit" if contender == "embedkit" else "torch"
    contender_trainer = models.make_trainer(side, weights, head, loss_fn, mode, optimizer, lr,
                                            own=True)
    del weights
    initial = [w.detach() for w in contender_trainer.bags.weights()]
    trainers = {names[0]: models.make_trainer("torch", initial, head, loss_fn, mode, optimizer,
                                              lr, huge_pages=torch_huge_pages),
                names[1]: contender_trainer}
    del initial
    thread_counts = harness.set_threads(threads)
    batches = {names[0]: data.batches,
               names[1]: ([synthetic.reversed_bags(b) for b in data.batches]
                          if contender == "torch-reversed" else data.batches)}
    losses = {name: [] for name in names}

    def stepper(name):
        trainer, record, mine = trainers[name], losses[name], batches[name]

        def step():
            record.append(trainer.step(mine[len(record) % len(mine)]))
        return step

    seconds = harness.interleaved({name: stepper(name) for name in names}, cfg["samples"],
                                  cfg["per_sample"], cfg["warmup"])
    losses = {name: [float(x) for x in values] for name, values in losses.items()}
    steps_per_s = {name: [1.0 / s for s in values] for name, values in seconds.items()}
    ratio = harness.ratios(seconds[names[0]], seconds[names[1]])
    result = {
        "model": model, "optimizer": optimizer, "lr": lr, "threads": threads, "thread_counts": thread_counts,
        "shape": shape, "samples": cfg["samples"], "steps_per_sample": cfg["per_sample"],
        "warmup_steps": cfg["warmup"], "sides": names,
        "steps_per_s": {name: harness.summary(v) for name, v in steps_per_s.items()},
        "seconds_per_step": seconds,
        "ratio": harness.summary(ratio),
        "loss": {name: {"first": v[0], "last_sample_mean": statistics.mean(v[-cfg["per_sample"]:]),
                        "steps": len(v)} for name, v in losses.items()},
        "max_loss_difference": max(abs(a - b) for a, b in zip(*losses.values())),
        **weight_differences(trainers[names[0]].bags.weights(),
                             trainers[names[1]].bags.weights()),
    }
    result["phases"] = phase_breakdown(trainers, batches, steps=max(3, cfg["samples"] // 2))
    # Amdahl's bound: the ratio if the contender's embeddings took no time at all.
    phases = result["phases"][names[0]]
    dense = phases["dense forward + backward"] + phases["dense optimizer step"]
    result["ratio_ceiling"] = sum(phases.values()) / dense
    result["peak_rss_gib"] = harness.peak_rss_gib()
    return result


def phase_breakdown(trainers, batches, steps):
    """Median seconds per phase of each side's step, the sides interleaved step by step."""
    times = {name: [] for name in trainers}
    for i in range(steps):
        for name in (list(trainers) if i % 2 == 0 else list(trainers)[::-1]):
            times[name].append(trainers[name].phases(batches[name][i % len(batches[name])],
                                                     time.perf_counter))
    return {name: {phase: statistics.median(t[phase] for t in values) for phase in values[0]}
            for name, values in times.items()}


def describe(r):
    a, b = r["sides"]
    sps, loss = r["steps_per_s"], r["loss"]
    return (f"{r['model']:4} {r['optimizer']:11} threads={r['threads']}: "
            f"{a} {sps[a]['median']:.2f} steps/s, {b} {sps[b]['median']:.2f} steps/s, "
            f"ratio {r['ratio']['median']:.2f}x [{r['ratio']['min']:.2f}-{r['ratio']['max']:.2f}]; "
            f"loss {a} {loss[a]['first']:.4f}->{loss[a]['last_sample_mean']:.4f}, "
            f"{b} {loss[b]['first']:.4f}->{loss[b]['last_sample_mean']:.4f} "
            f"(max step diff {r['max_loss_difference']:.2e}); "
            f"max |w_{a} - w_{b}| {r['max_weight_difference']:.2e} "
            f"({r['weights_differing']} > {r['weights_differing_tolerance']:g})")


def markdown(results, info, command):
    out = [f"Command: `{command}`\n",
           f"Machine: {info.get('Model name', '?')}, {info['cpus']} CPUs; torch {info['torch']} "
           f"with {info['blas']} (OMP_WAIT_POLICY={info['OMP_WAIT_POLICY']}), "
           f"embedkit {info['embedkit']}, commit {info.get('commit', '?')}; load average "
           f"{', '.join(f'{x:.1f}' for x in info['load_start'])} at the start, "
           f"{', '.join(f'{x:.1f}' for x in info['load_end'])} at the end; wall time "
           f"{info['wall_s']:.0f} s; peak RSS of a case {info['peak_rss_gib']:.1f} GiB.\n"]
    rows = []
    for r in results:
        a, b = r["sides"]
        s = r["shape"]
        size = (f"{s['tables']} x {s['rows']:,} x {s['dim']}, {s['mode']}, batch {s['batch']}"
                + (f", bags of {s['bag']}" if "bag" in s else
                   f", {s['ids_per_batch']:.0f} ids a batch"))
        loss = r["loss"]
        rows.append([r["model"], r["optimizer"], r["threads"], size,
                     f"{r['steps_per_s'][a]['median']:.2f}", f"{r['steps_per_s'][b]['median']:.2f}",
                     f"**{r['ratio']['median']:.2f}x** ({r['ratio']['min']:.2f}-"
                     f"{r['ratio']['max']:.2f})",
                     f"{loss[a]['first']:.4f} → {loss[a]['last_sample_mean']:.4f}",
                     f"{loss[b]['first']:.4f} → {loss[b]['last_sample_mean']:.4f}",
                     f"{r['max_loss_difference']:.1e}",
                     f"{r['max_weight_difference']:.1e} ({r['weights_differing']:,} > "
                     f"{r['weights_differing_tolerance']:g})", f"{r['ratio_ceiling']:.1f}x"])
    a, b = results[0]["sides"]
    out.append(harness.markdown_table(
        ["model", "optimizer", "threads", "tables", f"{a} steps/s", f"{b} steps/s",
         f"{a} time / {b} time (min-max)", f"{a} loss first → last", f"{b} loss first → last",
         "max loss diff", "max weight diff (elements above)", "ceiling"],
        rows, ["---", "---", "---:", "---", "---:", "---:", "---:", "---", "---", "---:", "---:",
               "---:"]))
    out.append("\nceiling: the ratio if the embeddings took no time at all (the torch step's time "
               "over its dense part's, from the phases below).\n")
    out.append("\nWhere the time goes (median ms per phase of one step, same steps on both sides):"
               "\n")
    phase_rows = []
    for r in results:
        for name, phases in r["phases"].items():
            total = sum(phases.values())
            phase_rows.append([r["model"], r["optimizer"], r["threads"], name, f"{total * 1e3:.1f}",
                               "; ".join(f"{p} {t * 1e3:.1f}" for p, t in phases.items())])
    out.append(harness.markdown_table(["model", "optimizer", "threads", "side", "total ms",
                                       "phases (ms)"], phase_rows,
                                      ["---", "---", "---:", "---", "---:", "---"]))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small tables, few samples (< 1 min)")
    ap.add_argument("--models", default="dlrm,text")
    ap.add_argument("--optimizers", default="sgd,approx_sgd,adagrad,sparse_adam",
                    help="those a model supports are run (dlrm: sgd, approx_sgd, adagrad); "
                         "approx_sgd: embedkit's input-order SGD against torch's SGD")
    ap.add_argument("--threads", default="1", help="comma-separated thread counts")
    ap.add_argument("--contender", default="embedkit", choices=list(CONTENDER_NAMES),
                    help="torch: PyTorch against a copy of itself (the harness's noise); "
                         "torch-reversed: against itself with every bag's ids in reverse order "
                         "(same sums, other rounding: how far two exact implementations drift)")
    ap.add_argument("--samples", type=int, help="override the samples per case")
    ap.add_argument("--torch-huge-pages", action="store_true",
                    help="a control: torch's tables copied onto transparent huge pages, where "
                         "embedkit's modules put theirs (torch's allocator does not)")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()

    configs = QUICK if args.quick else FULL
    info = harness.machine()
    info["load_start"] = harness.load_average()
    start = time.perf_counter()
    results = []
    for model in args.models.split(","):
        cfg = dict(configs[model])
        if args.samples:
            cfg["samples"] = args.samples
        for optimizer in args.optimizers.split(","):
            if optimizer not in cfg["lr"]:
                continue
            for threads in (int(t) for t in args.threads.split(",")):
                results.append(run_case(model, optimizer, cfg, threads, args.contender,
                                        args.torch_huge_pages))
                print(describe(results[-1]), flush=True)
    info["wall_s"] = time.perf_counter() - start
    info["load_end"] = harness.load_average()
    info["peak_rss_gib"] = max(r["peak_rss_gib"] for r in results)
    command = harness.command_line(sys.argv)
    harness.write_json(args.json, {"machine": info, "args": vars(args), "results": results})
    text = markdown(results, info, command)
    harness.write_text(args.markdown, text)
    print(text)


if __name__ == "__main__":
    main()
