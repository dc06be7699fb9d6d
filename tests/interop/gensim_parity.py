"""embedkit eval against gensim's evaluate_word_analogies / evaluate_word_pairs.

Makes a vocabulary whose analogies mostly hold (word = entity + role + noise, mixed case so
that case folding matters), an analogy file and a word-pair file, then compares the per-section
counts and Spearman's rho of `embedkit eval --json` with gensim's, for two restrict_vocab values.
Usage: gensim_parity.py EMBEDKIT WORKDIR. Exits 77 (skipped) when gensim is not importable.
"""
import json
import os
import random
import subprocess
import sys

try:
    from gensim.models import KeyedVectors
except ImportError:
    print("gensim is not importable: skipped")
    sys.exit(77)

embedkit, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = random.Random(5)
D = 16


def rnd():
    return [rng.gauss(0, 1) for _ in range(D)]


vec, lines = {}, []
for section in range(4):
    lines.append(": section-%d" % section)
    r1, r2 = rnd(), rnd()
    pairs = []
    for k in range(12):
        x = ("E%dx%d" % (section, k)) if k % 3 else ("e%dx%d" % (section, k))
        y = "f%dy%d" % (section, k)
        e = rnd()
        vec[x] = [e[i] + r1[i] + rng.gauss(0, 0.4) for i in range(D)]
        vec[y] = [e[i] + r2[i] + rng.gauss(0, 0.4) for i in range(D)]
        pairs.append((x, y))
    for (a, b) in pairs:
        for (c, d) in pairs[:5]:
            if a != c:
                lines.append("%s %s %s %s" % (a, b, c, d))
    lines.append("%s %s %s unknownword" % (pairs[0] + pairs[1][:1]))
words = list(vec)
rng.shuffle(words)
vectors = os.path.join(work, "v.txt")
with open(vectors, "w") as f:
    f.write("%d %d\n" % (len(words), D))
    for w in words:
        f.write(w + " " + " ".join("%.6f" % x for x in vec[w]) + "\n")
analogies = os.path.join(work, "analogies.txt")
with open(analogies, "w") as f:
    f.write("\n".join(lines) + "\n")
pairs_file = os.path.join(work, "pairs.tsv")
with open(pairs_file, "w") as f:
    f.write("# word1\tword2\tscore\n")
    for _ in range(60):
        a, b = rng.choice(words), rng.choice(words)
        f.write("%s\t%s\t%.2f\n" % (a.lower(), b, rng.uniform(0, 10)))

kv = KeyedVectors.load_word2vec_format(vectors, binary=False)
failures = 0
for restrict in (300000, 40):
    out = subprocess.run([embedkit, "eval", vectors, "--analogies", analogies, "--similarity",
                          pairs_file, "--restrict", str(restrict), "--json"],
                         check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    _, sections = kv.evaluate_word_analogies(analogies, restrict_vocab=restrict)
    theirs = [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections]
    mine = [(s["section"], s["correct"], s["incorrect"])
            for s in ours["analogies"]["sections"] + [ours["analogies"]["total"]]]
    if mine != theirs:
        failures += 1
        print("restrict %d: analogies differ\n embedkit %s\n gensim   %s" % (restrict, mine, theirs))
    _, spearman, oov = kv.evaluate_word_pairs(pairs_file, restrict_vocab=restrict)
    rho = ours["similarity"]["spearman"]
    if abs(rho - spearman[0]) > 1e-6 or abs(ours["similarity"]["oov_ratio_percent"] - oov) > 1e-9:
        failures += 1
        print("restrict %d: spearman %r vs gensim %r, oov %r vs %r" %
              (restrict, rho, spearman[0], ours["similarity"]["oov_ratio_percent"], oov))
    print("restrict %d: %s; spearman %.6f" % (restrict, mine[-1], rho))
sys.exit(1 if failures else 0)
