"""A corpus with planted topics and morphology for the subword tests (test_subwords_*.py), made
in the test.

Each topic has a stem ("kor", "vam", ...) and its words are the stem with one of a few endings
("korati", "korelu" ...): every sentence draws its words from one topic, plus a few words shared
by all. A working subword model puts a word's nearest neighbours in its own topic, and gives a
word never seen (the stem with a new ending) a vector near its topic's words.
"""

import random

import numpy as np

STEMS = ["kor", "vam", "sut", "bel", "dix", "pon"]
ENDINGS = ["ati", "elu", "ond", "isk", "umar", "eft"]
# Endings no training sentence uses: words made with them are out of the vocabulary.
UNSEEN_ENDINGS = ["adro", "ilup"]
COMMON = ["the", "of", "and", "to", "in"]


def topic_words(stem):
    return [stem + e for e in ENDINGS]


def subword_corpus(sentences, length=12, seed=0):
    """A list of token lists (see the module's docstring)."""
    rng = random.Random(seed)
    corpus = []
    for _ in range(sentences):
        words = topic_words(rng.choice(STEMS))
        corpus.append([rng.choice(COMMON) if rng.random() < 0.2 else rng.choice(words)
                       for _ in range(length)])
    return corpus


def write_corpus(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(" ".join(s) + "\n")
    return path


def unseen_words():
    """Words outside the vocabulary, by topic: {stem: [stem + unseen ending, ...]}."""
    return {stem: [stem + e for e in UNSEEN_ENDINGS] for stem in STEMS}


def topic_precision(vector_of, vocabulary, k=5):
    """Mean fraction of the k nearest vocabulary words (cosine) of each unseen word that share
    its topic. `vector_of(word)` gives any word's vector."""
    words = [w for w in vocabulary if w not in COMMON]
    matrix = np.stack([vector_of(w) for w in words]).astype(np.float64)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = []
    for stem, unseen in unseen_words().items():
        for word in unseen:
            v = np.asarray(vector_of(word), dtype=np.float64)
            nearest = np.argsort(-(matrix @ (v / np.linalg.norm(v))))[:k]
            scores.append(sum(words[i].startswith(stem) for i in nearest) / k)
    return float(np.mean(scores))


# Words whose n-grams the bucket tests compare: seen, unseen, short, and multi-byte UTF-8.
PROBE_WORDS = ["korati", "korzzz", "a", "of", "naïve", "日本語", "crème", "x" * 12, "</s>",
               "e\u0301", "ab"]
