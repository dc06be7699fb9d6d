"""Word vectors with gensim's names: ``embedkit.KeyedVectors``.

``KeyedVectors`` is gensim 4's ``KeyedVectors`` API over embedkit's C++ ``vectors::KeyedVectors``
(a vocabulary and a float32 matrix ``[V, D]``, row ``i`` = ``index_to_key[i]``): the same
method names, arguments, defaults and return types, and the same results on the same vectors
(tests/python/test_vectors_gensim.py compares them with gensim 4.2). The nearest-neighbour
scans and file I/O run in C++ with the GIL released.

What differs from gensim, on purpose:

- A ``KeyedVectors`` is immutable: it is built whole (``KeyedVectors(words, vectors)``, a file,
  or a trained model), and ``kv.vectors`` is a read-only view of embedkit's matrix (no copy),
  because the queries use unit rows computed once, when it was built.
- ``save``/``load`` use embedkit's own formats, never pickle: a ``.npy`` path writes the
  ``.npy`` + ``.vocab`` pair, any other path one safetensors file (see ``save``).
- A missing word raises ``KeyError`` with embedkit's message, ``"word 'x' is not in the
  vocabulary"`` (gensim says ``"Key 'x' not present"``).
- ``most_similar_cosmul`` honours ``restrict_vocab`` (gensim 4.2 accepts it and ignores it).
- ``n_similarity`` raises ``KeyError`` for a missing word (gensim 4.2 silently drops it).
"""

import logging
import math
import os
import warnings
from collections import namedtuple
from numbers import Integral

import numpy as np

from embedkit import _embedkit

__all__ = ["KeyedVectors", "PearsonResult", "SpearmanResult"]

logger = logging.getLogger(__name__)

# gensim's epsilon for most_similar_cosmul (embedkit's C++ default, 0.001, is Levy & Goldberg's).
_COSMUL_EPSILON = 1e-6

PearsonResult = namedtuple("PearsonResult", ["statistic", "pvalue"])
PearsonResult.__doc__ = """Pearson's r and its two-sided p-value (scipy.stats.pearsonr's result)."""
SpearmanResult = namedtuple("SpearmanResult", ["correlation", "pvalue"])
SpearmanResult.__doc__ = """Spearman's rho and its two-sided p-value (scipy.stats.spearmanr's)."""


def _is_key(value):
    return isinstance(value, (str, Integral)) and not isinstance(value, bool)


def _ensure_list(value):
    """gensim's rule: a single key or a 1-D vector is a list of one; a 2-D array is its rows."""
    if value is None:
        return []
    if _is_key(value) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return list(value)
    return list(value)


def _betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x)
                 + b * math.log1p(-x))
    # The fraction converges fast for x < (a + 1) / (a + b + 2); otherwise use the symmetry.
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 10000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return math.exp(log_front) * f / a


def _correlation_pvalue(r, n, n2_pvalue=float("nan")):
    """Two-sided p-value of a correlation r over n pairs: the t-test with n - 2 degrees of
    freedom, I_{1-r^2}((n-2)/2, 1/2), which is what scipy.stats.pearsonr and spearmanr report.
    For n == 2 scipy says 1.0 (pearsonr) or NaN (spearmanr): `n2_pvalue`."""
    if math.isnan(r) or n < 2:
        return float("nan")
    if n == 2:
        return n2_pvalue
    return _betainc((n - 2) / 2.0, 0.5, max(0.0, 1.0 - r * r))


class KeyedVectors:
    """A vocabulary and its vectors, with gensim's ``KeyedVectors`` API.

    ``KeyedVectors(words, vectors)``: ``words`` a list of distinct non-empty strings,
    ``vectors`` an array ``[len(words), D]`` (converted to float32 and copied once into
    embedkit). Rows are taken to be sorted by decreasing frequency, as word2vec, fastText and
    GloVe write them, so ``restrict_vocab=N`` searches the N most frequent words.

    Also built by ``KeyedVectors.load_word2vec_format`` (word2vec text or binary, fastText
    ``.vec``, GloVe), ``KeyedVectors.load`` (embedkit's formats) and ``embedkit.Word2Vec(...).wv``.

    Keys are words or, as in gensim, integer row indices. Queries compare unit-length rows
    (cosine similarity). Raises ``ValueError`` for mismatched sizes, an empty or duplicate word
    or a non-finite value.
    """

    def __init__(self, words, vectors):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._init_native(_embedkit.KeyedVectors(list(words), vectors))

    @classmethod
    def _from_native(cls, native):
        """Wraps an ``embedkit._embedkit.KeyedVectors`` (from a binding) without copying it."""
        self = cls.__new__(cls)
        self._init_native(native)
        return self

    def _init_native(self, native):
        self._native = native
        self._vectors = native.matrix  # read-only views of embedkit's buffers, no copies
        self._unit_view = None  # the unit rows: made on first use (the queries do not need them)
        self._index_to_key = None
        self._key_to_index = None
        self._counts = None

    @property
    def _unit(self):
        if self._unit_view is None:
            self._unit_view = self._native.unit_matrix
        return self._unit_view

    # ----------------------------------------------------------------------------------------
    # The vocabulary and the vectors

    @property
    def vectors(self):
        """The float32 matrix ``[len(self), vector_size]``: a read-only NumPy view of embedkit's
        own buffer (no copy; the queries use unit rows computed when this object was built, so
        it cannot be written). Row ``i`` is ``index_to_key[i]``."""
        return self._vectors

    @property
    def vector_size(self):
        """The vectors' dimension."""
        return self._native.dim

    @property
    def index_to_key(self):
        """The words in row order (a list, made on first use; changing it changes nothing)."""
        if self._index_to_key is None:
            self._index_to_key = self._native.words
        return self._index_to_key

    @property
    def key_to_index(self):
        """A dict word -> row (made on first use; changing it changes nothing)."""
        if self._key_to_index is None:
            self._key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        return self._key_to_index

    def __len__(self):
        return self._native.size

    def __str__(self):
        return f"{type(self).__name__}<vector_size={self.vector_size}, {len(self)} keys>"

    __repr__ = __str__

    def __reduce__(self):
        # Pickling (multiprocessing, copy.deepcopy) rebuilds from the words and a copy of the
        # matrix; embedkit never writes pickles itself (see save).
        return type(self), (self.index_to_key, np.array(self._vectors))

    def get_index(self, key, default=None):
        """The row of ``key`` (a word, or an int row index as gensim allows); ``default`` when
        absent if given, else ``KeyError``."""
        if isinstance(key, str):
            row = self._native.find(key)
            if row is not None:
                return row
        elif _is_key(key) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        if isinstance(key, str):
            return self._native.at(key)  # raises embedkit's KeyError
        raise KeyError(f"word {key!r} is not in the vocabulary")

    def has_index_for(self, key):
        """Whether ``key`` (a word or a row index) has a row."""
        return self.get_index(key, -1) >= 0

    def __contains__(self, key):
        return self.has_index_for(key)

    def get_vector(self, key, norm=False):
        """The vector of ``key`` as a read-only 1-D view (no copy); ``norm=True``: its unit-length
        version (an all-zero vector stays zero). ``KeyError`` when absent."""
        row = self.get_index(key)
        return (self._unit if norm else self._vectors)[row]

    def __getitem__(self, key_or_keys):
        """``kv["word"]``: its vector (a read-only view); ``kv[["a", "b"]]``: a new 2-D array of
        their vectors."""
        if _is_key(key_or_keys):
            return self.get_vector(key_or_keys)
        return self._vectors[[self.get_index(k) for k in key_or_keys]]

    def get_normed_vectors(self):
        """All vectors scaled to unit length ``[len(self), vector_size]``: a read-only view of the
        matrix embedkit's queries use (no copy)."""
        return self._unit

    def get_vecattr(self, key, attr):
        """gensim's per-word attribute; only ``"count"`` exists, read from ``fvocab`` by
        ``load_word2vec_format`` (``KeyError`` otherwise)."""
        if attr != "count" or self._counts is None:
            raise KeyError(f"attribute {attr!r} is not set (only 'count', from fvocab)")
        return self._counts[self.get_index(key)]

    # ----------------------------------------------------------------------------------------
    # Queries

    def _limit(self, restrict_vocab):
        # gensim: restrict_vocab None or 0 means the whole vocabulary.
        return len(self) if not restrict_vocab else int(restrict_vocab)

    def _term_vector(self, key):
        if isinstance(key, np.ndarray):
            vector = np.asarray(key, dtype=np.float64)
            if vector.shape != (self.vector_size,):
                raise ValueError(f"a vector must have shape ({self.vector_size},), got "
                                 f"{vector.shape}")
            return vector, None
        row = self.get_index(key)
        return self._unit[row].astype(np.float64), row

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The ``topn`` keys most similar to the (weighted) mean of ``positive`` minus
        ``negative``, as gensim computes it: each key's unit vector (a given vector as is) times
        its weight (default 1 for positive, -1 for negative; give ``(key, weight)`` pairs to
        choose), divided by the sum of absolute weights, compared by cosine with every row
        among the first ``restrict_vocab`` (all when None), the input keys left out.

        ``positive`` / ``negative``: a key, a vector, or a list of keys, vectors or
        ``(key_or_vector, weight)`` pairs. ``most_similar("king")``,
        ``most_similar(positive=["king", "woman"], negative=["man"])``.

        Returns a list of ``(key, similarity)`` tuples, best first (ties: lower row first), or,
        when ``topn`` is None, a float32 array of the cosine of every row (input keys
        included). ``[]`` when ``topn < 1``, as gensim. ``KeyError`` for a missing key,
        ``ValueError`` when there is no input or the query holds a non-finite value.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        positive, negative = _ensure_list(positive), _ensure_list(negative)
        if topn is not None and not negative and len(positive) == 1 and isinstance(positive[0],
                                                                                    str):
            # One word: its own unit row is the query (the same answer as the general path).
            return self._native.most_similar_to_word(positive[0], int(topn),
                                                     self._limit(restrict_vocab))
        terms = [(item, 1.0) for item in positive] + [(item, -1.0) for item in negative]
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total = 0.0
        exclude = []
        for item, weight in terms:
            if not (_is_key(item) or isinstance(item, np.ndarray)):
                item, weight = item[0], float(item[1])
            vector, row = self._term_vector(item)
            mean += weight * vector
            total += abs(weight)
            if row is not None:
                exclude.append(row)
        if not terms:
            raise ValueError("cannot compute mean with no input")
        if total > 0:
            mean /= total
        limit = self._limit(restrict_vocab)
        if topn is None:
            return self._cosines(mean, limit)
        return self._native.most_similar_to_vector(mean.astype(np.float32), int(topn), exclude,
                                                   limit)

    def _cosines(self, vector, limit):
        norm = np.linalg.norm(vector)
        unit = (vector / norm if norm > 0 else vector).astype(np.float32)
        return self._unit[:limit] @ unit

    def use_hnsw_index(self, path, ef=100, m=16, ef_construction=200, seed=100, workers=0):
        """Answers ``most_similar`` (and 3CosAdd analogies) over the whole vocabulary from an
        approximate HNSW index (hnswlib) instead of the exact scan; ``restrict_vocab``,
        ``topn=None`` and ``most_similar_cosmul`` stay exact. The index is the file ``path``
        (``embedkit similar --ann`` uses ``VECTORS.hnsw``): loaded when it exists, and checked
        to have been built from these vectors, else built and saved there atomically. Returns
        True when it was built.

        ``ef``: candidates kept while searching (more finds more of the exact answers, slower);
        ``m``, ``ef_construction``, ``seed``: hnswlib's build parameters; ``workers``: build
        threads, accepted but not used for now (one thread inserts: Debian's hnswlib 0.6.2 races
        on its level generator when several do; docs/nearest-neighbours.md), so the graph is the
        same every time. The words found have their
        exact cosine. With an index, ``topn > len(self)`` is a ``ValueError``. ``OSError`` for an
        index of other vectors, or a truncated or corrupt one (nothing is rebuilt or written:
        delete the file to rebuild it).
        """
        return self._native.use_hnsw_index(os.fspath(path), int(ef), int(m), int(ef_construction),
                                           int(seed), int(workers))

    def use_exact_search(self):
        """Answers the neighbour queries by the exact scan again (the default)."""
        self._native.use_exact_search()

    @property
    def has_index(self):
        """Whether ``use_hnsw_index`` is in effect."""
        return self._native.has_index

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        """``most_similar(positive=[key], ...)``."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_word = similar_by_key

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """The ``topn`` keys most similar to a vector: ``most_similar(positive=[vector], ...)``."""
        return self.most_similar(positive=[np.asarray(vector)], topn=topn,
                                 restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The ``topn`` keys by Levy & Goldberg's multiplicative objective (3CosMul), as gensim:
        ``prod((1 + cos(x, p)) / 2 for p in positive) /
        (prod((1 + cos(x, n)) / 2 for n in negative) + 1e-6)``, keys as unit vectors (a given
        vector as is), the input keys left out, among the first ``restrict_vocab`` rows (all
        when None; gensim 4.2 ignores this argument).

        Returns ``[(key, score)]``, best first, or the array of every row's score when
        ``topn`` is None; ``[]`` when ``topn < 1``. ``most_similar_cosmul(["king", "woman"],
        ["man"])`` runs in C++ (the GIL released); other forms in NumPy.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        positive = _ensure_list(positive)
        negative = _ensure_list(negative)
        limit = self._limit(restrict_vocab)
        if (topn is not None and len(positive) == 2 and len(negative) == 1
                and all(isinstance(k, str) for k in positive + negative)):
            return self._native.analogy_cosmul(positive[0], negative[0], positive[1], int(topn),
                                               limit, _COSMUL_EPSILON)
        pos = [self._term_vector(k) for k in positive]
        neg = [self._term_vector(k) for k in negative]
        if not pos:
            raise ValueError("cannot compute similarity with no input")
        unit = self._unit[:limit]

        def shifted(terms):
            return [(1.0 + unit @ v.astype(np.float32)) / 2.0 for v, _ in terms]

        scores = (np.prod(shifted(pos), axis=0) /
                  (np.prod(shifted(neg), axis=0) + _COSMUL_EPSILON)).astype(np.float32)
        if topn is None:
            return scores
        exclude = {row for _, row in pos + neg if row is not None}
        return self._best(scores, int(topn), exclude)

    def _best(self, scores, topn, exclude):
        order = np.argsort(-scores, kind="stable")  # ties: lower row first
        words = self.index_to_key
        out = []
        for row in order:
            if row in exclude:
                continue
            out.append((words[row], float(scores[row])))
            if len(out) == topn:
                break
        return out

    def similarity(self, w1, w2):
        """The cosine similarity of two keys (a float). ``KeyError`` for a missing one."""
        return self._native.similarity(self._word(w1), self._word(w2))

    def _word(self, key):
        return key if isinstance(key, str) else self.index_to_key[self.get_index(key)]

    def distance(self, w1, w2):
        """The cosine distance of two keys: ``1 - similarity(w1, w2)``."""
        return 1.0 - self.similarity(w1, w2)

    def distances(self, word_or_vector, other_words=()):
        """Cosine distances (float32 array) from a key or vector to each of ``other_words``, or
        to every row when ``other_words`` is empty (itself included)."""
        if _is_key(word_or_vector):
            vector = self._unit[self.get_index(word_or_vector)]
        else:
            vector = np.asarray(word_or_vector, dtype=np.float32)
            norm = np.linalg.norm(vector)
            vector = vector / norm if norm > 0 else vector
        rows = self._unit if not other_words else self._unit[[self.get_index(w)
                                                              for w in other_words]]
        return (1.0 - rows @ vector).astype(np.float32)

    def n_similarity(self, ws1, ws2):
        """The cosine similarity of the means of two lists of keys (their raw vectors, as
        gensim). ``ZeroDivisionError`` when a list is empty (gensim's), ``KeyError`` for a
        missing key."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")

        def unit_mean(keys):
            mean = self._vectors[[self.get_index(k) for k in keys]].astype(np.float64).mean(0)
            norm = np.linalg.norm(mean)
            return mean / norm if norm > 0 else mean

        return float(unit_mean(ws1) @ unit_mean(ws2))

    def rank_by_centrality(self, words, use_norm=True):
        """``[(similarity, word)]`` sorted by cosine with the normalized mean of the words'
        vectors (unit vectors when ``use_norm``), most central first. Words not in the
        vocabulary are left out with a warning, as gensim does; ``ValueError`` when none is
        left."""
        used = [w for w in words if w in self]
        if len(used) != len(words):
            warnings.warn(f"vectors for words {set(words) - set(used)} are not present in the "
                          "model, ignoring these words", UserWarning, stacklevel=2)
        if not used:
            raise ValueError("cannot select a word from an empty list")
        source = self._unit if use_norm else self._vectors
        vectors = source[[self.get_index(w) for w in used]]
        mean = vectors.astype(np.float64).mean(0)
        norm = np.linalg.norm(mean)
        mean = (mean / norm if norm > 0 else mean).astype(np.float32)
        dists = vectors @ mean
        return sorted(zip(dists.tolist(), used), reverse=True)

    def doesnt_match(self, words):
        """The word of ``words`` furthest (by cosine) from the mean of their unit vectors.
        Words not in the vocabulary are left out with a warning (gensim's rule)."""
        return self.rank_by_centrality(words)[-1][1]

    # ----------------------------------------------------------------------------------------
    # Evaluation

    def _ok_vocab(self, restrict_vocab, case_insensitive):
        # gensim's rule: the first restrict_vocab words; when case-insensitive, upper-cased with
        # Python's str.upper(), and the most frequent of words that upper-case alike wins.
        ok_vocab = {}
        for row, word in enumerate(self.index_to_key[:restrict_vocab]):
            ok_vocab.setdefault(word.upper() if case_insensitive else word, row)
        return ok_vocab

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False):
        """Accuracy on an analogy file (word2vec's questions-words.txt format), computed as
        gensim computes it: ``": name"`` lines start sections; every other line is ``a b c
        expected``, answered by 3CosAdd (``b - a + c``) among the first ``restrict_vocab``
        words, the first of the 5 best that is not an input word (a line that is not 4 words is
        skipped; a question before any section is ``ValueError``). A question with a word
        outside those words is skipped, or counted wrong with ``dummy4unknown=True``.
        ``case_insensitive``: words and questions compared upper-cased (``str.upper``).

        Returns ``(score, sections)``: the overall accuracy (0.0 without questions) and a list of
        dicts ``{"section": name, "correct": [(a, b, c, expected)], "incorrect": [...]}``, in
        file order, then ``"Total accuracy"``. The questions are answered in one C++ batch, with
        the GIL released.
        """
        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        # Each section's questions in file order, as [(a, b, c, expected), correct]; correct is
        # None until the batch below answers it.
        sections, entries = [], None
        questions, asked = [], []  # rows (b, a, c), so that C++'s a' - b' + c' is b - a + c
        oov = quadruplets = 0
        with open(analogies, "rb") as f:
            for line_no, raw in enumerate(f):
                line = raw.decode("utf-8")
                if line.startswith(": "):
                    entries = []
                    sections.append((line.lstrip(": ").strip(), entries))
                    continue
                if entries is None:
                    raise ValueError(f"Missing section header before line #{line_no} in "
                                     f"{analogies}")
                words = line.split()
                if len(words) != 4:
                    logger.info("Skipping invalid line #%i in %s", line_no, analogies)
                    continue
                quad = tuple(w.upper() for w in words) if case_insensitive else tuple(words)
                quadruplets += 1
                if any(w not in ok_vocab for w in quad):
                    oov += 1
                    if dummy4unknown:
                        entries.append([quad, False])
                    continue
                entry = [quad, None]
                entries.append(entry)
                asked.append(entry)
                questions.append((ok_vocab[quad[1]], ok_vocab[quad[0]], ok_vocab[quad[2]]))
        if questions:
            rows, _ = self._native.analogy_rows(np.asarray(questions, dtype=np.int64), 5,
                                                self._limit(restrict_vocab))
            keys = self.index_to_key
            for entry, found in zip(asked, rows.tolist()):
                quad = entry[0]
                # gensim's rule: the first of the 5 best that is not an input word (upper-cased
                # alike when case-insensitive); failing that, the last of them.
                predicted = None
                for row in found:
                    if row < 0:
                        break
                    predicted = keys[row].upper() if case_insensitive else keys[row]
                    if predicted in ok_vocab and predicted not in quad[:3]:
                        break
                entry[1] = predicted == quad[3]
        sections = [{"section": name,
                     "correct": [q for q, ok in entries if ok],
                     "incorrect": [q for q, ok in entries if not ok]}
                    for name, entries in sections]
        total = {
            "section": "Total accuracy",
            "correct": [q for s in sections for q in s["correct"]],
            "incorrect": [q for s in sections for q in s["incorrect"]],
        }
        answered = len(total["correct"]) + len(total["incorrect"])
        score = len(total["correct"]) / answered if answered else 0.0
        if quadruplets:
            logger.info("Quadruplets with out-of-vocabulary words: %.1f%%",
                        100.0 * oov / quadruplets)
        logger.info("Total accuracy: %.1f%% (%i/%i)", 100.0 * score, len(total["correct"]),
                    answered)
        sections.append(total)
        return score, sections

    def evaluate_word_pairs(self, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                            case_insensitive=True, dummy4unknown=False):
        """Correlation with human similarity judgements (wordsim353 format), computed as gensim
        computes it: lines ``word1<delimiter>word2<delimiter>score``; lines starting with ``#``
        and lines that do not parse are skipped; a pair with a word outside the first
        ``restrict_vocab`` words is skipped, or scored 0 with ``dummy4unknown=True``.

        Returns ``(pearson, spearman, oov_ratio)``: ``PearsonResult(statistic, pvalue)``,
        ``SpearmanResult(correlation, pvalue)`` (Spearman with average ranks for ties) and the
        percentage of pairs with an unknown word. The correlations are embedkit's (C++); the
        p-values are the two-sided t-test scipy.stats reports, computed here. ``ValueError``
        when no pair can be scored.
        """
        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        gold, model_rows = [], []
        oov = 0
        with open(pairs, encoding=encoding) as f:
            for line_no, line in enumerate(f):
                if not line or line.startswith("#"):
                    continue
                try:
                    parts = line.split(delimiter)
                    if case_insensitive:
                        parts = [p.upper() for p in parts]
                    a, b, sim = parts
                    sim = float(sim)
                except (ValueError, TypeError):
                    logger.info("Skipping invalid line #%d in %s", line_no, pairs)
                    continue
                if a not in ok_vocab or b not in ok_vocab:
                    oov += 1
                    if dummy4unknown:
                        gold.append(sim)
                        model_rows.append(None)
                    continue
                gold.append(sim)
                model_rows.append((ok_vocab[a], ok_vocab[b]))
        if not gold:
            raise ValueError(f"No valid similarity judgements found in {pairs}: either invalid "
                             f"format or all are out-of-vocabulary in {self}")
        model = [0.0 if rows is None else float(self._unit[rows[0]] @ self._unit[rows[1]])
                 for rows in model_rows]
        n = len(gold)
        r = _embedkit.pearson_correlation(gold, model)
        rho = _embedkit.spearman_correlation(gold, model)
        pearson = PearsonResult(r, _correlation_pvalue(r, n, n2_pvalue=1.0))
        spearman = SpearmanResult(rho, _correlation_pvalue(rho, n))
        oov_ratio = 100.0 * oov / (n if dummy4unknown else n + oov)
        logger.info("Pearson correlation coefficient against %s: %.4f", pairs, r)
        logger.info("Spearman rank-order correlation coefficient against %s: %.4f", pairs, rho)
        logger.info("Pairs with unknown words ratio: %.1f%%", oov_ratio)
        return pearson, spearman, oov_ratio

    # ----------------------------------------------------------------------------------------
    # Files

    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary=False, encoding="utf8",
                             unicode_errors="strict", limit=None, datatype=np.float32,
                             no_header=False):
        """Reads word2vec's text format (also fastText's ``.vec``), its binary format
        (``binary=True``) or GloVe's (text without the header line, ``no_header=True``).

        The file is read whole and checked in C++ (GIL released): a missing file raises
        ``FileNotFoundError``, a truncated or malformed one ``OSError`` naming the file and
        line (or row) and nothing is loaded. ``limit``: keep only the first ``limit`` vectors
        (the whole file is still read and checked). ``fvocab``: word2vec's ``-save-vocab`` file
        (``word count`` lines), whose counts ``get_vecattr(word, "count")`` returns.

        Only UTF-8 (``encoding``), ``unicode_errors="strict"`` and float32 (``datatype``) are
        supported: anything else is ``ValueError``.
        """
        if encoding.lower().replace("-", "") != "utf8":
            raise ValueError(f"encoding={encoding!r}: embedkit reads UTF-8 files only")
        if unicode_errors != "strict":
            raise ValueError(f"unicode_errors={unicode_errors!r}: embedkit refuses words that "
                             "are not valid UTF-8 (only 'strict')")
        if np.dtype(datatype) != np.float32:
            raise ValueError(f"datatype={datatype!r}: embedkit holds float32 vectors only")
        if no_header and binary:
            raise NotImplementedError("no_header only available for text-format files")
        fmt = "word2vec-binary" if binary else ("glove" if no_header else "word2vec")
        native = _embedkit.load_word_vectors(os.fspath(fname), fmt)
        if limit is not None and limit < native.size:
            if limit < 1:
                raise ValueError(f"limit must be >= 1 or None, got {limit}")
            native = _embedkit.KeyedVectors(native.words[:limit], native.matrix[:limit])
        kv = cls._from_native(native)
        if fvocab is not None:
            kv._counts = kv._read_counts(fvocab)
        return kv

    def _read_counts(self, fvocab):
        counts = {}
        with open(fvocab, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 2:
                    raise OSError(f"{fvocab}:{line_no}: expected 'word count'")
                counts[parts[0]] = int(parts[1])
        # gensim's rule: a word missing from fvocab has count None.
        return [counts.get(w) for w in self.index_to_key]

    def save_word2vec_format(self, fname, fvocab=None, binary=False, write_header=True):
        """Writes word2vec's text format (``binary=False``; GloVe's without the header line
        when ``write_header=False``) or its binary format, in row order, replacing the file
        atomically (an error leaves no half-written file). Every value is written in the
        shortest form that reads back to the same float32. ``fvocab`` (counts) is not
        supported (``NotImplementedError``)."""
        if fvocab is not None:
            raise NotImplementedError("fvocab: embedkit does not write word counts")
        if binary and not write_header:
            raise ValueError("word2vec's binary format always has its header line")
        fmt = "word2vec-binary" if binary else ("word2vec" if write_header else "glove")
        _embedkit.save_word_vectors(self._native, os.fspath(fname), fmt)

    @staticmethod
    def _own_format(fname):
        return "npy" if os.fspath(fname).endswith(".npy") else "safetensors"

    def save(self, fname):
        """Saves in embedkit's own format (never pickle): a path ending in ``.npy`` writes the
        NumPy pair (``vectors.npy`` + ``vectors.vocab``, the words one per line, both written
        and synced before either is renamed, and checked together on load); any other path
        (``vectors.kv``) writes one safetensors file (tensor ``"weight"``, the words in the
        metadata entry ``"vocabulary"``), replaced atomically. Both round-trip bit for bit."""
        _embedkit.save_word_vectors(self._native, os.fspath(fname), self._own_format(fname))

    @classmethod
    def load(cls, fname, mmap=None):
        """Loads what ``save`` wrote (``.npy`` pair or safetensors, by the same rule), read into
        memory, or with ``mmap="r"`` mapped read-only as gensim maps it: ``vectors`` is then a
        read-only view of the file's pages, which the queries read as they need them (nothing
        is copied; a ``.npy`` pair's ``.vocab`` is checked against the matrix's bytes first).
        The other modes (``"r+"``, ``"c"``, ``"w+"``) would write the vectors, which a
        ``KeyedVectors`` never does: ``ValueError``. gensim's pickles are not read: convert
        them with gensim's ``save_word2vec_format``."""
        if mmap is None:
            read = _embedkit.load_word_vectors
        elif mmap == "r":
            read = _embedkit.map_word_vectors
        else:
            raise ValueError(f"mmap={mmap!r}: only 'r' (read-only) is supported, because a "
                             "KeyedVectors never writes its vectors")
        return cls._from_native(read(os.fspath(fname), cls._own_format(fname)))
