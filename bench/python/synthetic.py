"""Synthetic training data for the Python benchmarks: fixed seeds, skewed ids, learnable labels.

Both sides of a comparison train on the very same batches (the same tensors), so only the
embedding implementation differs. Ids follow a Zipf law (the most frequent rows of real
recommendation and text data are hit far more often than the rest), with the ranks scattered
over the table by a fixed permutation so that the frequent rows are not neighbours in memory.
Labels are a function of the ids plus noise, so the loss falls as the models learn and one can
see that both sides train the same thing.
"""

from dataclasses import dataclass

import numpy as np
import torch


class ZipfSampler:
    """Draws ids in [0, rows) with P(rank k) proportional to 1 / k**exponent."""

    def __init__(self, rows, exponent, rng):
        weights = 1.0 / np.arange(1, rows + 1, dtype=np.float64) ** exponent
        self.cdf = np.cumsum(weights)
        self.cdf /= self.cdf[-1]
        self.rank_to_id = rng.permutation(rows).astype(np.int64)

    def __call__(self, rng, size):
        ranks = np.searchsorted(self.cdf, rng.random(size), side="right")
        return self.rank_to_id[np.minimum(ranks, len(self.cdf) - 1)]


@dataclass
class Bags:
    """The input of one EmbeddingBag call: flat ids and the start of each bag (int64)."""

    ids: torch.Tensor
    offsets: torch.Tensor


@dataclass
class Batch:
    features: list  # one Bags per table
    target: torch.Tensor


@dataclass
class DlrmData:
    """DLRM-style click data: `tables` categorical features, each a bag of `bag` ids."""

    rows: int
    tables: int
    bag: int
    batch: int
    batches: list


def dlrm_data(rows, tables, bag, batch, count, seed=0, exponent=1.05):
    """`count` batches of `batch` samples, each with one bag of `bag` ids per table.

    The click label is drawn from sigmoid(sum over tables of the mean of a hidden per-row score),
    so the embeddings can learn it.
    """
    rng = np.random.default_rng(seed)
    samplers = [ZipfSampler(rows, exponent, rng) for _ in range(tables)]
    hidden = [rng.standard_normal(rows).astype(np.float32) for _ in range(tables)]
    offsets = torch.arange(0, batch * bag, bag, dtype=torch.int64)
    batches = []
    for _ in range(count):
        features, logit = [], np.zeros(batch, dtype=np.float64)
        for sampler, score in zip(samplers, hidden):
            ids = sampler(rng, batch * bag)
            logit += score[ids].reshape(batch, bag).mean(axis=1)
            features.append(Bags(torch.from_numpy(ids), offsets))
        p = 1.0 / (1.0 + np.exp(-logit))
        target = torch.from_numpy((rng.random(batch) < p).astype(np.float32))
        batches.append(Batch(features, target))
    return DlrmData(rows, tables, bag, batch, batches)


@dataclass
class TextData:
    """fastText-style lines: word ids then word-bigram ids hashed into `buckets` rows."""

    rows: int  # words + buckets
    classes: int
    batch: int
    batches: list


def text_data(words, buckets, classes, batch, count, min_len=5, max_len=40, seed=0,
              exponent=1.0):
    """`count` batches of `batch` lines of min_len..max_len words (Zipf over the vocabulary).

    Each line's bag holds its word ids and, as fastText's wordNgrams=2, the ids
    words + hash(w1, w2) % buckets of its consecutive pairs. Each word leans to one class; a
    line's label is the class most of its words lean to (ties: the lowest), then 10% of the
    labels are replaced at random.
    """
    rng = np.random.default_rng(seed)
    sampler = ZipfSampler(words, exponent, rng)
    leaning = rng.integers(0, classes, size=words)
    batches = []
    for _ in range(count):
        lengths = rng.integers(min_len, max_len + 1, size=batch)
        line_of = np.repeat(np.arange(batch), lengths)
        tokens = sampler(rng, int(lengths.sum()))
        first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        # Pairs (tokens[i], tokens[i + 1]) within a line: every position but each line's last.
        last = first + lengths - 1
        pair_start = np.setdiff1d(np.arange(len(tokens) - 1), last[:-1])
        hashed = (tokens[pair_start].astype(np.uint64) * np.uint64(116049371)
                  + tokens[pair_start + 1].astype(np.uint64)) % np.uint64(buckets)
        bigrams = words + hashed.astype(np.int64)
        # One bag per line: its words, then its bigrams.
        ids = np.concatenate((tokens, bigrams))
        line = np.concatenate((line_of, line_of[pair_start]))
        ids = ids[np.argsort(line, kind="stable")]
        sizes = 2 * lengths - 1
        offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        votes = np.zeros((batch, classes), dtype=np.int64)
        np.add.at(votes, (line_of, leaning[tokens]), 1)
        labels = votes.argmax(axis=1)
        noisy = rng.random(batch) < 0.1
        labels[noisy] = rng.integers(0, classes, size=int(noisy.sum()))
        batches.append(Batch([Bags(torch.from_numpy(ids), torch.from_numpy(offsets))],
                             torch.from_numpy(labels.astype(np.int64))))
    return TextData(words + buckets, classes, batch, batches)


def reversed_bags(batch):
    """`batch` with the ids of every bag in reverse order: the same bags, summed in another
    order (so rounded differently)."""
    features = []
    for f in batch.features:
        ids, offsets = f.ids.numpy(), f.offsets.numpy()
        position = np.arange(len(ids))
        bag = np.searchsorted(offsets, position, side="right") - 1
        end = np.append(offsets[1:], len(ids))
        source = offsets[bag] + end[bag] - 1 - position
        features.append(Bags(torch.from_numpy(ids[source]), f.offsets))
    return Batch(features, batch.target)
