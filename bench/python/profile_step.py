#!/usr/bin/env python3
"""One side's training step of one case of train_step.py, in a loop, for a profiler.

Builds the case as train_step.py does (same model, data, sizes and optimizer), runs the warm-up,
then `--steps` steps; with `--perf FILE` it records them (and only them, not the set-up) with
`perf record -g` attached to this process, and prints the top of `perf report`. With
`--cprofile` it prints Python's profile of the steps instead (where the Python time goes).

  PYTHONPATH=build-bench/python /usr/bin/python3 bench/python/profile_step.py dlrm sgd embedkit \\
      --perf dlrm-sgd.data

embedkit's release module is stripped: for its function names, link it without the strip
(`ninja -C build-bench -t commands embedkit_python`: the last command, less its strip).
"""

import argparse
import cProfile
import os
import pstats
import signal
import subprocess
import time

import harness
import models
import train_step


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", choices=list(train_step.BUILDERS))
    ap.add_argument("optimizer", choices=list(models.OPTIMIZERS))
    ap.add_argument("side", choices=["torch", "embedkit"])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--perf", help="perf record's output file")
    ap.add_argument("--cprofile", action="store_true")
    args = ap.parse_args()

    cfg = (train_step.QUICK if args.quick else train_step.FULL)[args.model]
    data, head, weights, loss_fn, mode, _ = train_step.BUILDERS[args.model](cfg, args.optimizer)
    trainer = models.make_trainer(args.side, weights, head, loss_fn, mode, args.optimizer,
                                  cfg["lr"][args.optimizer], own=True)
    del weights
    harness.set_threads(args.threads)
    batches = data.batches
    for i in range(cfg["warmup"]):
        trainer.step(batches[i % len(batches)])

    def steps():
        for i in range(args.steps):
            trainer.step(batches[i % len(batches)])

    perf = None
    if args.perf:
        perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", args.perf, "-p",
                                 str(os.getpid())], stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # perf attaches
    start = time.perf_counter()
    if args.cprofile:
        profile = cProfile.Profile()
        profile.runcall(steps)
    else:
        steps()
    seconds = (time.perf_counter() - start) / args.steps
    print(f"{args.model} {args.optimizer} {args.side}: {seconds * 1e3:.2f} ms a step "
          f"({args.steps} steps, {args.threads} thread(s))")
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait()
        report = subprocess.run(["perf", "report", "-i", args.perf, "--no-children", "--sort",
                                 "dso,symbol", "-g", "none", "--percent-limit", "1"],
                                capture_output=True, text=True).stdout
        print("\n".join(line[:160] for line in report.splitlines()
                        if line.strip() and not line.startswith("#")))
    if args.cprofile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
