"""Word vectors the KeyedVectors tests make (no downloaded data): words and float32 vectors with
analogy structure, written in word2vec's text and binary formats, and small analogy and
word-pair files in gensim's formats."""

import numpy as np

# Pairs (x_i, y_i) whose vectors differ by one offset plus noise, so that x_i : y_i :: x_j : y_j
# holds for many (not all) i, j: an analogy file then has right and wrong answers.
PAIRS = 30


def make_vectors(words=500, dim=24, seed=0):
    """(words, vectors): float32 [words, dim]. Includes words that upper-case alike (ASCII and
    not), which exercise gensim's case-insensitive evaluation."""
    rng = np.random.default_rng(seed)
    names = []
    for i in range(PAIRS):
        names += [f"x{i}", f"y{i}"]
    names += ["Paris", "paris", "PARIS", "Émile", "émile", "straße", "STRASSE"]
    names += [f"w{i}" for i in range(words - len(names))]
    vectors = rng.standard_normal((len(names), dim)).astype(np.float32)
    offset = 2.0 * rng.standard_normal(dim).astype(np.float32)
    for i in range(PAIRS):
        noise = 0.6 * rng.standard_normal(dim).astype(np.float32)
        vectors[2 * i + 1] = vectors[2 * i] + offset + noise
    return names, vectors


def write_text(path, words, vectors, header=True):
    """word2vec's text format (GloVe's without the header), values as repr() of the float32."""
    with open(path, "w", encoding="utf-8") as f:
        if header:
            f.write(f"{len(words)} {vectors.shape[1]}\n")
        for word, row in zip(words, vectors):
            f.write(word + " " + " ".join(repr(float(v)) for v in row) + "\n")


def write_binary(path, words, vectors):
    """word2vec's binary format, as word2vec.c -binary 1 writes it."""
    with open(path, "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for word, row in zip(words, vectors):
            f.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")


def write_analogies(path, seed=1, per_section=40):
    """questions-words.txt format: sections of 'a b c expected' lines, some with unknown words,
    some in another case, one malformed line."""
    rng = np.random.default_rng(seed)
    lines = [": pairs-lower"]
    for _ in range(per_section):
        i, j = rng.choice(PAIRS, 2, replace=False)
        lines.append(f"x{i} y{i} x{j} y{j}")
    lines.append("x1 y1 x2")  # not 4 words: skipped
    lines.append("x1 y1 unknownword y2")  # out of vocabulary
    lines.append(": pairs-upper")
    for _ in range(per_section):
        i, j = rng.choice(PAIRS, 2, replace=False)
        lines.append(f"X{i} Y{i} X{j} Y{j}")
    lines.append("x3 y3 paris émile")
    lines.append("x3 y3 Émile PARIS")
    lines.append("x4 y4 straße w7")
    lines.append(": mixed")
    for _ in range(per_section):
        a, b, c, d = rng.choice(60, 4, replace=False)
        lines.append(f"w{a} w{b} w{c} w{d}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_pairs(path, words, seed=2, n=80, delimiter="\t"):
    """wordsim353 format: word1, word2, a score; a comment, unknown words, a malformed line."""
    rng = np.random.default_rng(seed)
    lines = ["# word1\tword2\tscore"]
    for _ in range(n):
        a, b = rng.choice(len(words), 2, replace=False)
        lines.append(delimiter.join([words[a], words[b], f"{rng.uniform(0, 10):.2f}"]))
    lines.append(delimiter.join(["X1", "y1", "7.5"]))
    lines.append(delimiter.join(["nosuchword", "x1", "3.0"]))
    lines.append(delimiter.join(["x1", "x2", "not-a-number"]))
    lines.append(delimiter.join(["x1", "x2"]))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
