#!/usr/bin/env python3
"""Per-call overhead of a tiny lookup from Python: 16 ids (4 bags of 4, mode 'mean') in a small
table, through embedkit and through PyTorch, where the Python-to-C++ crossing is all there is.

Pairs compared (issue 15's target: embedkit's call no slower than torch's):

- functional: `torch.nn.functional.embedding_bag` on tensors against
  `embedkit.nn.functional.embedding_bag` on NumPy arrays and on the same torch tensors (DLPack);
- module forward, autograd on (the weight requires grad, as in training):
  `torch.nn.EmbeddingBag` against `embedkit.torch.EmbeddingBag` and its fused variant;
- module forward under `torch.no_grad()` (inference).

timeit-style: each variant runs `number` calls per repeat, the variants' repeats interleaved
round-robin; the figure is the minimum over repeats (the least disturbed), the median beside it.

  PYTHONPATH=build/python /usr/bin/python3 bench/python/call_overhead.py [--quick]
"""

import argparse
import statistics
import sys
import time
import timeit

import numpy as np
import torch

import harness


def variants(rows, dim, ids_count, bag):
    """{name: (group, zero-argument callable)}; group names the torch variant it is held to."""
    rng = np.random.default_rng(0)
    ids_np = rng.integers(0, rows, size=ids_count, dtype=np.int64)
    offsets_np = np.arange(0, ids_count, bag, dtype=np.int64)
    weight_np = rng.standard_normal((rows, dim)).astype(np.float32)
    ids, offsets = torch.from_numpy(ids_np), torch.from_numpy(offsets_np)
    weight = torch.from_numpy(weight_np.copy())
    F = torch.nn.functional
    out = {"torch F.embedding_bag": ("functional", lambda: F.embedding_bag(ids, weight, offsets))}

    torch_module = torch.nn.EmbeddingBag.from_pretrained(weight.clone(), freeze=False)

    def no_grad(module):
        def call():
            with torch.no_grad():
                return module(ids, offsets)
        return call

    out["torch nn.EmbeddingBag"] = ("module", lambda: torch_module(ids, offsets))
    out["torch nn.EmbeddingBag, no_grad"] = ("module, no_grad", no_grad(torch_module))
    try:
        import embedkit.nn.functional as ekf  # noqa: PLC0415
    except ImportError as e:
        print(f"embedkit.nn not available ({e}): torch only", file=sys.stderr)
        return out
    weight_ek = weight_np.copy()
    out["embedkit.nn.functional.embedding_bag, NumPy"] = (
        "functional", lambda: ekf.embedding_bag(ids_np, weight_ek, offsets_np))
    weight_t = weight.clone()
    out["embedkit.nn.functional.embedding_bag, torch tensors"] = (
        "functional", lambda: ekf.embedding_bag(ids, weight_t, offsets))
    try:
        import embedkit_side  # noqa: PLC0415
        modules = embedkit_side.tiny_modules(weight)
    except ImportError as e:
        print(f"embedkit.torch not available ({e})", file=sys.stderr)
        return out
    out["embedkit.torch.embedding_bag"] = (
        "functional", lambda: embedkit_side.ekt.embedding_bag(ids, weight, offsets))
    for name, module in modules.items():
        out[f"{name}"] = ("module", lambda m=module: m(ids, offsets))
        out[f"{name}, no_grad"] = ("module, no_grad", no_grad(module))
    return out


def check_equal(calls):
    """Every variant must compute the same bags (else the timing compares different work)."""
    reference = None
    for name, (_, call) in calls.items():
        value = call()
        value = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        if reference is None:
            reference = value
        elif not np.allclose(value, reference, rtol=1e-5, atol=1e-6):
            raise AssertionError(f"{name} computes another result than torch")


def measure(calls, number, repeat):
    timers = {name: timeit.Timer(call) for name, (_, call) in calls.items()}
    for timer in timers.values():
        timer.timeit(number)  # warm-up
    seconds = {name: [] for name in calls}
    for _ in range(repeat):
        for name, timer in timers.items():
            seconds[name].append(timer.timeit(number) / number)
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--number", type=int, help="calls per repeat (default 2000, quick 500)")
    ap.add_argument("--repeat", type=int, help="repeats (default 25, quick 7)")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    number = args.number or (500 if args.quick else 2000)
    repeat = args.repeat or (7 if args.quick else 25)
    ids_count, bag = 16, 4

    harness.set_threads(args.threads)
    info = harness.machine()
    info["load_start"] = harness.load_average()
    start = time.perf_counter()
    calls = variants(args.rows, args.dim, ids_count, bag)
    check_equal(calls)
    seconds = measure(calls, number, repeat)
    info["wall_s"] = time.perf_counter() - start
    info["load_end"] = harness.load_average()

    baseline = {"functional": "torch F.embedding_bag", "module": "torch nn.EmbeddingBag",
                "module, no_grad": "torch nn.EmbeddingBag, no_grad"}
    results = []
    for name, (group, _) in calls.items():
        best = min(seconds[name])
        torch_best = min(seconds[baseline[group]])
        results.append({"variant": name, "group": group, "min_us": best * 1e6,
                        "median_us": statistics.median(seconds[name]) * 1e6,
                        "vs_torch": best / torch_best})
    command = harness.command_line(sys.argv)
    harness.write_json(args.json, {"machine": info, "args": vars(args), "number": number,
                                   "repeat": repeat, "ids": ids_count, "bag": bag,
                                   "results": results})
    rows = [[r["variant"], f"{r['min_us']:.2f}", f"{r['median_us']:.2f}",
             f"{r['vs_torch']:.2f}"] for r in results]
    text = (f"Command: `{command}`\n\nTable {args.rows} x {args.dim} float32, {ids_count} int64 "
            f"ids in {ids_count // bag} bags (mode 'mean'), {args.threads} thread(s); "
            f"{number} calls x {repeat} repeats, interleaved; load average "
            f"{', '.join(f'{x:.1f}' for x in info['load_start'])} at the start; torch "
            f"{info['torch']}, embedkit {info['embedkit']}, commit {info.get('commit', '?')}.\n\n"
            + harness.markdown_table(["call", "min µs", "median µs",
                                      "time / torch's (min; <= 1 meets the target)"], rows,
                                     ["---", "---:", "---:", "---:"]))
    harness.write_text(args.markdown, text)
    print(text)


if __name__ == "__main__":
    main()
