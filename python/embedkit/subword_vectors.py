"""embedkit.FastText: subword word vectors with gensim 4's ``FastText`` names and defaults.

``FastText(sentences)`` or ``FastText(corpus_file=path)`` trains at once, as ``embedkit.Word2Vec``
does (the same C++ training, the same iterables, progress, callbacks, GIL release and Ctrl-C),
with each word also represented by its character n-grams (fastText's: ``min_n``..``max_n``
characters of ``"<word>"``, hashed into ``bucket`` rows exactly as fastText hashes them).
``model.wv`` is a ``FastTextKeyedVectors``: ``model.wv["word"]`` gives a vector for any word,
in the vocabulary or not.
"""

import logging
import os
import warnings

import numpy as np

from embedkit import _embedkit, _mpi
from embedkit.keyed_vectors import KeyedVectors, _ensure_list, _is_key
from embedkit.word2vec import Word2Vec, _int, _unsupported

__all__ = ["FastText", "FastTextKeyedVectors", "load_facebook_model", "load_facebook_vectors"]

logger = logging.getLogger(__name__)

_PARAMS = Word2Vec._PARAMS + ("min_n", "max_n", "bucket", "word_ngrams")


class FastTextKeyedVectors(KeyedVectors):
    """The vectors of a ``FastText`` model, with gensim's ``FastTextKeyedVectors`` rules.

    The rows (``vectors``, ``index_to_key``, ``most_similar`` candidates) are the vocabulary's
    words, each the mean of its own row and its n-gram rows, as gensim and fastText compute
    them. Any other word gets the mean of its n-gram rows: ``wv["unseen"]``,
    ``wv.get_vector``, ``most_similar``, ``similarity`` and ``distance`` take it. As in gensim:
    ``word in wv`` is True for every word when the model has n-grams (``bucket > 0``), and
    otherwise only for vocabulary words; a word outside the vocabulary without any n-gram
    (possible only with ``bucket == 0``) raises ``KeyError``; a word whose n-grams are all
    excluded gets the zero vector with a warning. ``wv.key_to_index`` tells the vocabulary.

    ``vectors_ngrams`` is the n-gram table ``[bucket, vector_size]`` and ``vectors_vocab`` the
    words' own rows: read-only views of the model's table (no copies).
    """

    @classmethod
    def _with_model(cls, words, vectors, model, min_n, max_n, bucket):
        kv = cls(words, vectors)
        kv._model = model  # embedkit._embedkit.FastTextModel, or None without n-grams
        kv.min_n, kv.max_n, kv.bucket = int(min_n), int(max_n), int(bucket)
        return kv

    def __reduce__(self):
        model = None if self._model is None else self._model.to_bytes()
        return _restore_keyed_vectors, (self.index_to_key, np.array(self.vectors), model,
                                        self.min_n, self.max_n, self.bucket)

    def _table(self):
        if self._model is None:
            return np.zeros((0, self.vector_size), dtype=np.float32)
        a = self._model.input_matrix
        a.flags.writeable = False
        return a

    @property
    def vectors_ngrams(self):
        """The n-gram rows ``[bucket, vector_size]`` (a read-only view, no copy)."""
        return self._table()[len(self):]

    @property
    def vectors_vocab(self):
        """The words' own rows ``[len(self), vector_size]``, before their n-grams are averaged
        in (a read-only view, no copy)."""
        if self._model is None:
            return self.vectors
        return self._table()[:len(self)]

    def __contains__(self, word):
        if self.bucket == 0:
            return word in self.key_to_index
        return True

    def get_vector(self, word, norm=False):
        """The vector of ``word``: its row when in the vocabulary (a read-only view), else the
        mean of its n-gram rows (a new array); ``norm=True`` scales it to unit length.
        ``KeyError`` for a word outside the vocabulary when the model has no n-grams."""
        if not isinstance(word, str) or self._native.find(word) is not None:
            return super().get_vector(word, norm=norm)
        if self.bucket == 0 or self._model is None:
            raise KeyError(f"cannot calculate vector for OOV word {word!r} without ngrams")
        vector = self._model.word_vector(word)
        if not vector.any() and len(self._model.subword_rows(word)) == 0:
            logger.warning("could not extract any ngrams from %r, returning origin vector", word)
            return vector
        if norm:
            return vector / np.linalg.norm(vector)
        return vector

    def __getitem__(self, key_or_keys):
        if _is_key(key_or_keys):
            return self.get_vector(key_or_keys)
        return np.stack([self.get_vector(k) for k in key_or_keys]) if len(key_or_keys) else \
            np.zeros((0, self.vector_size), dtype=np.float32)

    def _is_oov(self, key):
        return isinstance(key, str) and self._native.find(key) is None

    def _resolve(self, terms):
        """gensim's most_similar takes an OOV word as its unit vector; the base class takes a
        vector as given: each OOV word (alone or in a (word, weight) pair) becomes its unit
        vector."""
        out = []
        for item in _ensure_list(terms):
            if self._is_oov(item):
                item = self.get_vector(item, norm=True).astype(np.float64)
            elif isinstance(item, tuple) and self._is_oov(item[0]):
                item = (self.get_vector(item[0], norm=True).astype(np.float64), item[1])
            out.append(item)
        return out

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """As ``KeyedVectors.most_similar``; words outside the vocabulary are taken by their
        n-gram vector (gensim's rule)."""
        return super().most_similar(self._resolve(positive), self._resolve(negative), topn,
                                    restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """As ``KeyedVectors.most_similar_cosmul``; words outside the vocabulary are taken by
        their n-gram vector."""
        return super().most_similar_cosmul(self._resolve(positive), self._resolve(negative),
                                           topn, restrict_vocab)

    def similarity(self, w1, w2):
        """The cosine similarity of two words, either of them outside the vocabulary."""
        if not (self._is_oov(w1) or self._is_oov(w2)):
            return super().similarity(w1, w2)
        a = self.get_vector(w1, norm=True).astype(np.float64)
        b = self.get_vector(w2, norm=True).astype(np.float64)
        return float(a @ b)

    def rank_by_centrality(self, words, use_norm=True):
        """As ``KeyedVectors.rank_by_centrality``, words outside the vocabulary included (by
        their n-gram vectors) when the model has n-grams."""
        used = [w for w in words if w in self]
        if len(used) != len(words):
            warnings.warn(f"vectors for words {set(words) - set(used)} are not present in the "
                          "model, ignoring these words", UserWarning, stacklevel=2)
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vectors = np.stack([self.get_vector(w, norm=use_norm) for w in used])
        mean = vectors.astype(np.float64).mean(0)
        norm = np.linalg.norm(mean)
        mean = (mean / norm if norm > 0 else mean).astype(np.float32)
        return sorted(zip((vectors @ mean).tolist(), used), reverse=True)

    def save(self, fname):
        raise NotImplementedError("FastTextKeyedVectors.save: save the model (FastText.save) "
                                  "to keep the n-grams, or the vocabulary's vectors with "
                                  "save_word2vec_format")

    @classmethod
    def load(cls, fname, mmap=None):
        raise NotImplementedError("FastTextKeyedVectors.load: use FastText.load")


def _restore_keyed_vectors(words, vectors, model, min_n, max_n, bucket):
    model = None if model is None else _embedkit.FastTextModel.from_bytes(model)
    return FastTextKeyedVectors._with_model(words, vectors, model, min_n, max_n, bucket)


class FastText(Word2Vec):
    """Subword word vectors (Bojanowski et al. 2017) with gensim 4.2's ``FastText`` arguments,
    names and defaults: everything ``embedkit.Word2Vec`` takes, plus ``min_n=3``, ``max_n=6``
    (the character n-gram lengths), ``bucket=2000000`` (the rows n-grams are hashed into) and
    ``word_ngrams=1`` (the only value gensim supports either).

    A word's input is the mean of its own row and its n-gram rows; after training, a word's
    vector is that mean (``model.wv.vectors``), and a word never seen gets the mean of its
    n-gram rows (``model.wv["unseen"]``). The n-grams and their hashing are fastText's
    (``fasttext.FastText.get_subwords`` gives the same bucket ids), so ``model.wv`` answers as
    a fastText model trained alike does. As in gensim, ``max_n < min_n`` or ``bucket=0``
    trains without n-grams (``model.wv`` then knows only the vocabulary).

    The training is the C++ one ``embedkit train --minn --maxn --bucket`` runs: it differs
    from gensim's in that skip-gram updates a centre word's n-gram rows once per centre (the
    gradients of its context predictions summed), not once per context word; see
    docs/python.md. The table takes ``(len(vocab) + bucket) * vector_size`` floats: 800 MB at
    the defaults, as in gensim and fastText.

    ``save``/``load`` keep the whole model (the n-gram table included) in one .npz file;
    ``model.save_facebook_model(path)`` writes fastText's ``.bin`` (Debian's ``fasttext`` and
    ``fasttext.load_model`` read it), and ``embedkit.load_model(path)`` reads it back as a
    fastText-style model.

    ``comm=`` (an mpi4py communicator), ``distribute``, ``column_batch_words`` and
    ``syncs_per_epoch`` train across MPI processes as ``Word2Vec``'s do (the n-gram rows are
    sharded, or averaged, with the words' rows), as ``mpirun -np P embedkit train --minn --maxn``
    does.

    Raises ``ValueError`` for a negative ``min_n``, ``max_n`` or ``bucket``, for ``min_n == 0``
    with n-grams on, and for what ``Word2Vec`` refuses; ``NotImplementedError`` for
    ``word_ngrams != 1`` (gensim's).
    """

    _SAVE_FORMAT = "embedkit.FastText/1"
    _PARAMS = _PARAMS

    def __init__(self, sentences=None, corpus_file=None, sg=0, hs=0, vector_size=100,
                 alpha=0.025, window=5, min_count=5, max_vocab_size=None, word_ngrams=1,
                 sample=1e-3, seed=1, workers=3, min_alpha=0.0001, negative=5,
                 ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0, min_n=3,
                 max_n=6, sorted_vocab=1, bucket=2000000, trim_rule=None, batch_words=10000,
                 callbacks=(), max_final_vocab=None, shrink_windows=True, *, progress=None,
                 comm=None, distribute="columns", column_batch_words=None,
                 syncs_per_epoch=None):
        comm = _mpi.communicator(comm, "FastText")
        with _mpi.agreement(comm):  # every rank checks, then the ranks agree (as Word2Vec's)
            if word_ngrams != 1:
                raise NotImplementedError("FastText: word_ngrams != 1 is not supported (nor in "
                                          "gensim: word n-grams belong to the classifier)")
            self.word_ngrams = 1
            self.min_n = _int("min_n", min_n, 0)
            self.max_n = _int("max_n", max_n, 0)
            self.bucket = _int("bucket", bucket, 0)
            if self.max_n < self.min_n:
                self.bucket = 0  # gensim's rule: no n-gram length is eligible, so no buckets
            if self.bucket > 0 and self.min_n < 1:
                _unsupported("min_n", min_n, "n-grams have at least one character (min_n >= 1)",
                             "FastText")
            if self.bucket > 2**31 - 1:
                raise ValueError(f"bucket must be < 2**31 (fastText's int32), got {bucket}")
        super().__init__(sentences=sentences, corpus_file=corpus_file, vector_size=vector_size,
                         alpha=alpha, window=window, min_count=min_count,
                         max_vocab_size=max_vocab_size, sample=sample, seed=seed,
                         workers=workers, min_alpha=min_alpha, sg=sg, hs=hs, negative=negative,
                         ns_exponent=ns_exponent, cbow_mean=cbow_mean, hashfxn=hashfxn,
                         epochs=epochs, null_word=null_word, trim_rule=trim_rule,
                         sorted_vocab=sorted_vocab, batch_words=batch_words,
                         callbacks=callbacks, max_final_vocab=max_final_vocab,
                         shrink_windows=shrink_windows, progress=progress, comm=comm,
                         distribute=distribute, column_batch_words=column_batch_words,
                         syncs_per_epoch=syncs_per_epoch)

    @property
    def _subwords(self):
        return self.bucket > 0

    def _engine_options(self):
        if not self._subwords:
            return {}
        return {"minn": self.min_n, "maxn": self.max_n, "bucket": self.bucket,
                "fasttext_model": True}

    def _make_wv(self, words, vectors, extra):
        model = extra.get("fasttext_model")
        if isinstance(model, np.ndarray):  # from save(): the .bin's bytes
            model = _embedkit.FastTextModel.from_bytes(model.tobytes())
        if self._subwords and model is None:
            raise ValueError("FastText: the model's n-gram table is missing")
        return FastTextKeyedVectors._with_model(words, vectors, model, self.min_n, self.max_n,
                                                self.bucket)

    def _saved_arrays(self):
        if self.wv._model is None:
            return {}
        return {"fasttext_model": np.frombuffer(self.wv._model.to_bytes(), dtype=np.uint8)}

    def save_facebook_model(self, path):
        """Writes the model as fastText's ``.bin`` (gensim's
        ``gensim.models.fasttext.save_facebook_model``), atomically; Debian's ``fasttext``,
        ``fasttext.load_model`` and ``embedkit.load_model`` read it. ``ValueError`` without
        n-grams (``bucket == 0``)."""
        if self.wv is None or self.wv._model is None:
            raise ValueError("FastText.save_facebook_model: the model has no n-gram table "
                             "(trained with bucket=0 or max_n < min_n)")
        self.wv._model.save(os.fspath(path))


def _read_facebook_model(path, encoding):
    if encoding.lower().replace("-", "").replace("_", "") != "utf8":
        raise ValueError(f"encoding={encoding!r}: embedkit reads UTF-8 model files only")
    model = _embedkit.FastTextModel.load(os.fspath(path))
    if model.supervised:
        raise NotImplementedError("Supervised fastText models are not supported (gensim's "
                                  "rule): embedkit.load_model reads them to predict")
    if model.quantized:
        raise NotImplementedError("quantized fastText models (.ftz) are not supported: "
                                  "embedkit.load_model reads them")
    return model


def _vectors_of(model):
    args = model.args
    minn, maxn = args["minn"], args["maxn"]
    bucket = args["bucket"] if maxn > 0 else 0
    kv = FastTextKeyedVectors._with_model(model.words, model.word_vector_matrix(),
                                          model if bucket > 0 else None, minn, maxn, bucket)
    kv._counts = list(model.word_counts)
    return kv


def load_facebook_vectors(path, encoding="utf-8"):
    """Reads the word vectors of fastText's ``.bin`` (gensim's
    ``gensim.models.fasttext.load_facebook_vectors``): a ``FastTextKeyedVectors`` whose
    vocabulary is the file's dictionary (``"</s>"`` included, as fastText keeps it), each
    word's vector the mean of its rows, and any other word's from its n-grams.

    ``NotImplementedError`` for a supervised or quantized model (gensim's rule; read those
    with ``embedkit.load_model``), ``OSError`` naming the problem for a truncated or damaged
    file, ``FileNotFoundError`` for a missing one."""
    return _vectors_of(_read_facebook_model(path, encoding))


def load_facebook_model(path, encoding="utf-8"):
    """Reads fastText's ``.bin`` as a ``FastText`` model (gensim's
    ``gensim.models.fasttext.load_facebook_model``): ``wv`` as ``load_facebook_vectors``
    gives it, and the arguments the file keeps (``vector_size``, ``window``, ``epochs``,
    ``min_count``, ``negative``, ``sg``, ``hs``, ``sample``, ``min_n``, ``max_n``,
    ``bucket``); the others, which the file does not hold, take ``FastText``'s defaults.
    embedkit trains in the constructor only, so the model is for queries and files
    (``save``, ``save_facebook_model``), not for more training. Errors as
    ``load_facebook_vectors``."""
    import inspect

    native = _read_facebook_model(path, encoding)
    args = native.args
    model = FastText.__new__(FastText)
    for constructor in (Word2Vec.__init__, FastText.__init__):  # FastText's defaults last
        for name, parameter in inspect.signature(constructor).parameters.items():
            if name in FastText._PARAMS:
                setattr(model, name, parameter.default)
    model.vector_size = args["dim"]
    model.window = args["ws"]
    model.epochs = args["epoch"]
    model.min_count = args["minCount"]
    model.sg = int(args["model"] == "sg")
    model.hs = int(args["loss"] == "hs")
    model.negative = 0 if model.hs else args["neg"]
    model.sample = args["t"]
    model.min_n, model.max_n = args["minn"], args["maxn"]
    model.bucket = args["bucket"] if args["maxn"] > 0 else 0
    model.word_ngrams = 1
    model.corpus_total_words = native.tokens
    model.words_trained = 0
    model.total_train_time = 0.0
    model.words_per_second = 0.0
    model.final_loss = float("nan")
    model.callbacks = ()
    model.progress = None
    model.wv = _vectors_of(native)
    model.counts = np.array(native.word_counts, dtype=np.int64)
    return model
