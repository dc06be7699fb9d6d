"""Corpora with planted structure for the Word2Vec tests (test_word2vec_*.py), made in the test.

``groups_corpus``: `groups` topics of `group_size` words each; every sentence draws its words
from one topic, plus a few words shared by all topics ("the", "of", ...). A working word2vec
puts a word's nearest neighbours in its own topic.
"""

import random

import numpy as np

COMMON = ["the", "of", "and", "to", "in"]


def group_words(groups, group_size):
    return [[f"g{g}w{i}" for i in range(group_size)] for g in range(groups)]


def groups_corpus(sentences, groups=6, group_size=8, length=12, seed=0):
    """A list of token lists (see the module's docstring)."""
    rng = random.Random(seed)
    topics = group_words(groups, group_size)
    corpus = []
    for _ in range(sentences):
        topic = topics[rng.randrange(groups)]
        corpus.append([rng.choice(COMMON) if rng.random() < 0.2 else rng.choice(topic)
                       for _ in range(length)])
    return corpus


def write_corpus(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(" ".join(s) + "\n")
    return path


def neighbour_precision(index_to_key, vectors, groups, group_size, k=5):
    """Mean fraction of each topic word's k nearest neighbours (cosine) in its own topic."""
    index = {w: i for i, w in enumerate(index_to_key)}
    unit = np.asarray(vectors, dtype=np.float64)
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    topic_of = {w: g for g, words in enumerate(group_words(groups, group_size)) for w in words}
    scores = []
    for word, topic in topic_of.items():
        sims = unit @ unit[index[word]]
        sims[index[word]] = -np.inf
        nearest = [index_to_key[i] for i in np.argsort(-sims)[:k]]
        scores.append(sum(topic_of.get(n) == topic for n in nearest) / k)
    return float(np.mean(scores))
