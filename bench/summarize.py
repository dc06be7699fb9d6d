#!/usr/bin/env python3
"""Turns embedkit_bench's JSON output into the Markdown tables of BENCHMARKS.md.

usage: summarize.py bench.json > summary.md

One row per case (op / table / D / id distribution / bag size / threads): LibTorch's and
embedkit's time per call, embedkit's GB/s and share of the copy bandwidth, both libraries' share of the random-row read
ceiling (the random_rows cases, a table of their own), and the speedup
(vs_torch = torch time / embedkit time). Numbers are copied from the JSON, never recomputed.
"""
import json
import sys
from collections import OrderedDict


def main(path):
    with open(path) as f:
        data = json.load(f)
    ctx = data.get("context", {})
    rows = OrderedDict()
    copy = []
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        # Google Benchmark appends the run settings (min_time, real_time) to the name.
        parts = [p for p in b["name"].split("/")
                 if not p.startswith("min_time:") and p != "real_time"]
        if parts[0] == "copy":
            copy.append((parts[-1], b.get("GB/s", 0.0)))
            continue
        op, impl, rest = parts[0], parts[1], "/".join(parts[2:])
        key = (op, rest)
        r = rows.setdefault(key, {})
        r[impl] = b
    # One table per operation, in the order the operations first appear.
    order = list(OrderedDict.fromkeys(op for op, _ in rows))
    rows = OrderedDict(sorted(rows.items(), key=lambda kv: order.index(kv[0][0])))

    print(f"Run on {ctx.get('host_name', '?')}: {ctx.get('num_cpus', '?')} CPUs, "
          f"{ctx.get('date', '')}.")
    print()
    print("| copy: memcpy of 512 MiB, bytes read + written | GB/s |")
    print("| --- | ---: |")
    for threads, gbs in copy:
        print(f"| {threads} | {gbs:.1f} |")
    print()
    current_op = None
    for (op, rest), r in rows.items():
        y = r.get("plain_loop")
        if op == "random_rows":
            # The random-row read ceiling: plain loops only, one row per case.
            if op != current_op:
                current_op = op
                print()
                print("### random_rows (the random-row read ceiling)")
                print()
                print("| case | µs | Mrows/s | GB/s | copy% |")
                print("| --- | ---: | ---: | ---: | ---: |")
            pct = f"{y['copy%']:.0f}%" if "copy%" in y else ""
            print(f"| {rest} | {y['real_time']:.1f} | {y['Mrows/s']:.2f} | {y['GB/s']:.1f} | "
                  f"{pct} |")
            continue
        if op != current_op:
            current_op = op
            print()
            print(f"### {op}")
            print()
            steps = op.startswith("step_")
            extra = " torch Mrows/s | embedkit Mrows/s |" if steps else " plain loop µs |"
            print("| case | torch µs | embedkit µs | embedkit GB/s | copy% | ceiling% (torch) "
                  "| ceiling% (embedkit) | vs torch |" + extra)
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" +
                  (" ---: |" if steps else ""))
        t = r.get("torch")
        e = r.get("embedkit")
        def us(b):
            return f"{b['real_time']:.1f}" if b else ""
        def ceiling(b):
            return f"{b['ceiling%']:.0f}%" if b and "ceiling%" in b else ""
        gbs = f"{e['GB/s']:.1f}" if e and "GB/s" in e else ""
        pct = f"{e['copy%']:.0f}%" if e and "copy%" in e else ""
        vs = f"{e['vs_torch']:.2f}x" if e and "vs_torch" in e else ""
        def mrows(b):
            return f"{b['Mrows/s']:.2f}" if b and "Mrows/s" in b else ""
        tail = f"{mrows(t)} | {mrows(e)} |" if steps else f"{us(y)} |"
        print(f"| {rest} | {us(t)} | {us(e)} | {gbs} | {pct} | {ceiling(t)} | {ceiling(e)} | "
              f"{vs} | {tail}")

if __name__ == "__main__":
    main(sys.argv[1])
