"""embedkit.Word2Vec: word2vec training with gensim 4's names and defaults.

``Word2Vec(sentences)`` or ``Word2Vec(corpus_file=path)`` trains at once, as gensim does, and
``model.wv`` holds the vectors (an ``embedkit.KeyedVectors``). The training is embedkit's C++
word2vec (the algorithm of word2vec.c, as ``embedkit train`` runs it): it releases the GIL, and
Ctrl-C stops it with ``KeyboardInterrupt``.

Where embedkit cannot do what a gensim argument asks (``hs=1`` together with ``negative > 0``,
``cbow_mean=0``, ``trim_rule``, ``max_vocab_size`` ...), the constructor raises ``ValueError``
saying so: no argument is silently ignored.
"""

import json
import logging
import math
import numbers
import operator
import os
import sys
import tempfile
import zipfile

import numpy as np

from embedkit import _embedkit, _mpi

__all__ = ["Word2Vec", "Word2VecProgress"]

Word2VecProgress = _embedkit.Word2VecProgress

logger = logging.getLogger(__name__)

# Bytes the corpus reader takes as separators (a token is a run of other bytes; a newline ends a
# sentence), and NUL, which it refuses: none may appear inside a token.
_SEPARATORS = " \t\n\v\f\r\0"
# Seconds between progress reports from the training: often enough that Ctrl-C (checked at each
# report) stops training within a fraction of a second; a report costs microseconds.
_REPORT_INTERVAL = 0.1
# Seconds between the reports passed on to a progress callable, the log and a non-terminal
# stderr (a terminal's bar is redrawn at every report).
_CALLABLE_INTERVAL = 1.0
_LOG_INTERVAL = 1.0
_PLAIN_BAR_INTERVAL = 5.0
# The file format of Word2Vec.save, in its "format" field.
_SAVE_FORMAT = "embedkit.Word2Vec/1"
# Options saved with the vectors and restored by load().
_PARAMS = ("vector_size", "alpha", "window", "min_count", "sample", "seed", "workers",
           "min_alpha", "sg", "hs", "negative", "ns_exponent", "cbow_mean", "epochs",
           "compute_loss", "comment", "max_final_vocab", "corpus_total_words",
           "words_trained", "total_train_time", "words_per_second", "final_loss")


def _int(name, value, minimum):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(name, value, minimum, strict=False):
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {minimum}, "
                         f"got {value}")
    return value


def _flag(name, value):
    if value not in (0, 1):  # True and False too
        raise ValueError(f"{name} must be 0 or 1, got {value!r}")
    return int(value)


def _unsupported(name, value, why, who="Word2Vec"):
    raise ValueError(f"{who}: {name}={value!r} is not supported: {why}")


def _check_callbacks(callbacks, who="Word2Vec"):
    callbacks = tuple(callbacks)
    for cb in callbacks:
        for name in ("on_batch_begin", "on_batch_end"):
            method = getattr(type(cb), name, None)
            # gensim's CallbackAny2Vec defines every hook as a no-op; an overridden batch hook
            # would never be called (embedkit's threads read their own slices, not batches).
            if method is not None and getattr(method, "__qualname__", "") != \
                    f"CallbackAny2Vec.{name}":
                _unsupported("callbacks", cb, f"{name} is never called: embedkit trains without "
                             "job batches; use on_epoch_end or progress=", who)
    return callbacks


def _write_sentences(sentences, out):
    """Writes an iterable of token lists as embedkit's corpus text: a sentence a line, tokens
    separated by single spaces. Returns the number of tokens written."""
    if isinstance(sentences, (str, bytes)):
        raise TypeError("sentences must be an iterable of token lists, got a string; for a file, "
                        "pass corpus_file=")
    tokens = 0
    for number, sentence in enumerate(sentences):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"sentence {number} is a string, not a list of tokens (gensim would "
                            "train on its characters); split it first")
        if not isinstance(sentence, (list, tuple)):
            sentence = list(sentence)
        if not sentence:
            continue
        try:
            line = " ".join(sentence)
        except TypeError:
            bad = next(t for t in sentence if not isinstance(t, str))
            raise TypeError(f"sentence {number}: tokens must be str, got "
                            f"{type(bad).__name__} ({bad!r})") from None
        if line.count(" ") != len(sentence) - 1 or "" in sentence or \
                any(c in line for c in _SEPARATORS[1:]):
            bad = next(t for t in sentence if t == "" or any(c in t for c in _SEPARATORS))
            raise ValueError(f"sentence {number}: token {bad!r} is empty or holds whitespace or "
                             "NUL, which embedkit's corpus text cannot hold (a token is a run of "
                             "bytes other than space, \\t, \\n, \\v, \\f, \\r)")
        out.write(line)
        out.write("\n")
        tokens += len(sentence)
    return tokens


def _format_duration(seconds):
    s = int(max(seconds, 0) + 0.5) if math.isfinite(seconds) else 0
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _progress_text(p):
    return (f"{100 * p.fraction:5.1f}%  {p.words_per_second:8.0f} words/s  loss {p.loss:.4f}  "
            f"alpha {p.alpha:.6f}  ETA {_format_duration(p.eta_seconds)}")


class _StderrBar:
    """A bar redrawn on a terminal, plain lines every few seconds otherwise (as `embedkit
    train` prints)."""

    def __init__(self, who):
        self.who = who
        self.tty = sys.stderr.isatty()
        self.last = -math.inf
        self.shown = None  # the report last written

    def __call__(self, p, final=False):
        if self.tty:
            if p is not self.shown:
                filled = int(p.fraction * 30)
                bar = ("=" * filled + (">" if filled < 30 else "")).ljust(30)
                sys.stderr.write(f"\r[{bar}] {_progress_text(p)}")
                self.shown = p
            if final:
                sys.stderr.write("\n")
        elif p is not self.shown and (final or
                                      p.elapsed_seconds - self.last >= _PLAIN_BAR_INTERVAL):
            self.last = p.elapsed_seconds
            self.shown = p
            sys.stderr.write(f"{self.who}: {_progress_text(p)}\n")
        sys.stderr.flush()


def _distribution(distribute, column_batch_words, syncs_per_epoch):
    """(column_batch_words, syncs_per_epoch) for the engine: column_batch_words 0 averages.
    Each way across ranks has its own setting, and the other's would do nothing: refused."""
    if distribute == "columns":
        if syncs_per_epoch is not None:
            raise ValueError("syncs_per_epoch sets how often distribute='average' averages the "
                             "ranks' tables; distribute='columns' (the default) trains one model "
                             "without averaging")
        words = 1000 if column_batch_words is None else _int("column_batch_words",
                                                             column_batch_words, 1)
        return words, 4
    if distribute == "average":
        if column_batch_words is not None:
            raise ValueError("column_batch_words sizes the batches of distribute='columns'; "
                             "distribute='average' has none")
        return 0, 4 if syncs_per_epoch is None else _int("syncs_per_epoch", syncs_per_epoch, 1)
    raise ValueError(f"distribute must be 'columns' or 'average', got {distribute!r}")


class Word2Vec:
    """Word vectors trained by word2vec (skip-gram or CBOW, negative sampling or hierarchical
    softmax), with gensim 4's ``Word2Vec`` arguments, names and defaults.

    Give ``sentences`` (an iterable of token lists, read once: a generator works) or
    ``corpus_file`` (a text file, plain or gzip, one sentence a line, tokens separated by
    whitespace), and the constructor trains; ``model.wv`` then holds the vectors as an
    ``embedkit.KeyedVectors``. ``sentences`` are first written to a temporary corpus file (in
    ``tempfile.gettempdir()``, removed afterwards, also on error or Ctrl-C), because training
    reads the corpus once per epoch, each worker thread from its own offset.

    The training is word2vec.c's algorithm in C++: subsampling of frequent words, a randomly
    shrunk window, a learning rate decaying linearly from ``alpha`` to ``min_alpha`` over all
    epochs, hogwild threads. With ``workers=1`` the same corpus, arguments and ``seed`` give
    bitwise identical vectors; with more workers the threads' updates interleave, as in gensim
    and word2vec.c, and runs differ slightly. Sentences longer than 1000 words are trained in
    pieces of 1000 (word2vec.c's limit; gensim truncates them at 10000).

    Training runs on embedkit's threads without the GIL, so other Python threads run alongside;
    Ctrl-C raises KeyboardInterrupt within a fraction of a second, stops the threads and leaves
    no model and no temporary file.

    Arguments (gensim's; all keyword-usable, in gensim's order):
        sentences: iterable of lists of str tokens. A token must be non-empty and hold no
            whitespace (space, \\t, \\n, \\v, \\f, \\r) or NUL: ValueError otherwise.
        corpus_file: path of a corpus file (str or os.PathLike); FileNotFoundError when missing.
        vector_size: dimension of the vectors (100).
        alpha: initial learning rate (0.025).
        window: maximum distance between the current and the predicted word (5).
        min_count: words seen fewer times are dropped (5).
        max_vocab_size: must be None. gensim prunes rare words while counting to bound memory;
            embedkit counts exactly. ``max_final_vocab`` caps the vocabulary.
        sample: threshold for subsampling frequent words; 0 turns it off (1e-3).
        seed: seed of the random numbers, an integer in [0, 2**64) (1).
        workers: training threads (3).
        min_alpha: learning rate at the end (0.0001). None: word2vec.c's schedule, as ``embedkit
            train`` uses: alpha * (1 - progress), floored at alpha * 1e-4.
        sg: 1 for skip-gram, 0 for CBOW (0).
        hs: 1 for hierarchical softmax (then negative must be 0), 0 for negative sampling (0).
        negative: negative samples per prediction (5); 0 with hs=1. embedkit trains one loss:
            hs=1 with negative > 0 (gensim trains both at once) is a ValueError.
        ns_exponent: negative samples are drawn with probability count ** ns_exponent (0.75).
        cbow_mean: must be 1 for CBOW (the mean of the context vectors); 0 (their sum) is a
            ValueError.
        hashfxn: must be the built-in hash (embedkit's initialisation does not hash words).
        epochs: passes over the corpus (5).
        null_word: must be 0. trim_rule: must be None. sorted_vocab: must be 1 (the vocabulary
            is always sorted by count, descending; ties in order of first appearance).
        batch_words: must be 10000: embedkit has no job batches (each thread reads its own
            slice of the corpus).
        compute_loss: accepted for gensim's sake; embedkit always computes the loss (the mean
            loss per prediction: ``progress`` reports and ``final_loss``).
        callbacks: gensim callbacks (``gensim.models.callbacks.CallbackAny2Vec`` or any object
            with some of ``on_train_begin``, ``on_epoch_begin``, ``on_epoch_end``,
            ``on_train_end``, each called with the model). The epoch hooks are called while the
            threads train on: when a report (every 0.1 s) sees that an epoch's worth of words is
            done, and ``model.wv`` is None until training has returned (``model.progress``
            holds the latest report). An overridden ``on_batch_begin``/``on_batch_end`` is a
            ValueError: there are no batches.
        comment: kept as ``model.comment``.
        max_final_vocab: keep at most this many words, the most frequent (None: no limit).
            gensim raises min_count instead, so on ties it may keep fewer.
        shrink_windows: must be True (the window is always randomly shrunk, as in word2vec.c).
        progress: (embedkit's, keyword only) None or False: quiet (progress goes to the
            ``embedkit.word2vec`` logger at INFO, as gensim logs); True: a bar on stderr; a
            callable: called with a ``Word2VecProgress`` (fraction, words, words_per_second,
            loss, alpha, elapsed_seconds, eta_seconds) about every second and once at the end.
        comm: (embedkit's, keyword only) an mpi4py communicator (``MPI.COMM_WORLD``) to train
            across its processes (``mpirun -np P python3 train.py``), as ``mpirun -np P embedkit
            train`` does, in the way ``distribute`` says; every rank ends with the same
            vectors. Every rank passes the same corpus and arguments (checked: otherwise every
            rank raises the same error); progress and the epoch hooks during training come from
            rank 0 (the other ranks call their epoch hooks at the end). An error on one rank
            during training stops every rank (that rank raises its error, the others
            RuntimeError naming it). Save on one rank (``if comm.rank == 0: model.save(...)``).
            Needs embedkit built with MPI (``embedkit.has_mpi``): RuntimeError otherwise.
        distribute: (embedkit's, keyword only) with comm, ``"columns"`` (the default): each
            rank holds ``vector_size / P`` columns of the tables, every rank walks the whole
            corpus, and the ranks train one model, as one process would, the scores of
            ``column_batch_words`` kept words (1000) summed over the ranks at once (its
            ``workers`` split a rank's columns, deterministically); or ``"average"``: each rank
            trains its own copy on its byte range of the corpus (its threads on parts of that)
            and the copies are replaced by their mean ``syncs_per_epoch`` times an epoch (4):
            faster, but at 4 ranks about half a point lower in analogy accuracy on Brown
            (docs/distributed.md). At one rank and ``workers=1`` ``"average"`` equals training
            without comm bit for bit. As ``embedkit train --distribute``,
            ``--column-batch-words``, ``--syncs-per-epoch``; giving the other way's setting is
            a ValueError.

    After training: ``wv`` (KeyedVectors), ``total_train_time`` (seconds, gensim's name),
    ``words_per_second``, ``final_loss`` (mean loss per prediction over the last epoch),
    ``words_trained`` (corpus words of all epochs, before subsampling),
    ``corpus_total_words`` (tokens in the corpus, gensim's name), ``counts`` (each word's count,
    in ``wv.index_to_key`` order; also ``wv.get_vecattr(word, "count")``, as in gensim) and
    every argument as an attribute of the same name. A model pickles (the callbacks with it, as
    in gensim), and ``save``/``load`` keep it without pickle.

    Not supported: ``build_vocab`` / ``train`` (training happens in the constructor, so a
    corpus is required), continued training, ``get_latest_training_loss``.

    Errors: a missing corpus_file is FileNotFoundError, an unreadable or invalid one (binary
    data, broken gzip) OSError; an empty corpus, a corpus where no word reaches min_count, or a
    bad argument ValueError; a diverged training (alpha far too large) RuntimeError.
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5,
                 min_count=5, max_vocab_size=None, sample=1e-3, seed=1, workers=3,
                 min_alpha=0.0001, sg=0, hs=0, negative=5, ns_exponent=0.75, cbow_mean=1,
                 hashfxn=hash, epochs=5, null_word=0, trim_rule=None, sorted_vocab=1,
                 batch_words=10000, compute_loss=False, callbacks=(), comment=None,
                 max_final_vocab=None, shrink_windows=True, *, progress=None, comm=None,
                 distribute="columns", column_batch_words=None, syncs_per_epoch=None):
        comm = _mpi.communicator(comm, type(self).__name__)
        tmp = None
        try:
            # Across ranks, every rank checks its arguments and the ranks agree before any trains
            # (a rank that raised alone would leave the others waiting for it).
            with _mpi.agreement(comm):
                if sentences is None and corpus_file is None:
                    raise TypeError(f"{type(self).__name__}: give sentences or corpus_file; "
                                    "embedkit trains in the constructor (build_vocab() and "
                                    "train() are not supported)")
                if sentences is not None and corpus_file is not None:
                    raise TypeError(f"{type(self).__name__}: give sentences or corpus_file, "
                                    "not both")
                self.vector_size = _int("vector_size", vector_size, 1)
                self.alpha = _float("alpha", alpha, 0.0, strict=True)
                self.window = _int("window", window, 1)
                self.min_count = max(_int("min_count", min_count, 0), 1)  # 0 keeps every word, as 1
                if max_vocab_size is not None:
                    self._refuse("max_vocab_size", max_vocab_size, "embedkit counts the vocabulary "
                                 "exactly, without pruning while counting; use "
                                 "max_final_vocab to cap it")
                self.sample = _float("sample", sample, 0.0)
                self.seed = _int("seed", seed, 0)
                if self.seed >= 2**64:
                    raise ValueError(f"seed must be < 2**64, got {seed}")
                self.workers = _int("workers", workers, 1)
                if self.workers > 1024:
                    raise ValueError(f"workers must be <= 1024, got {workers}")
                self.min_alpha = None if min_alpha is None else _float("min_alpha", min_alpha, 0.0)
                self.sg = _flag("sg", sg)
                self.hs = _flag("hs", hs)
                self.negative = _int("negative", negative, 0)
                if self.hs and self.negative > 0:
                    self._refuse("hs", hs, f"with negative={negative} gensim trains "
                                 "hierarchical softmax and negative sampling together; embedkit "
                                 "trains one: pass negative=0 for hierarchical softmax, or hs=0")
                if not self.hs and self.negative == 0:
                    raise ValueError(f"{type(self).__name__}: hs=0 and negative=0 leave nothing to "
                                     "train: set negative > 0 or hs=1")
                if not isinstance(ns_exponent, numbers.Real) or not math.isfinite(ns_exponent):
                    raise ValueError(f"ns_exponent must be a finite number, got {ns_exponent!r}")
                self.ns_exponent = float(ns_exponent)
                self.cbow_mean = _flag("cbow_mean", cbow_mean)
                if not self.sg and not self.cbow_mean:
                    self._refuse("cbow_mean", cbow_mean,
                                 "embedkit's CBOW averages the context vectors")
                if hashfxn is not hash:
                    self._refuse("hashfxn", hashfxn,
                                 "embedkit initialises the vectors from seed alone")
                self.epochs = _int("epochs", epochs, 1)
                if null_word != 0:
                    self._refuse("null_word", null_word, "embedkit adds no padding word")
                if trim_rule is not None:
                    self._refuse("trim_rule", trim_rule, "the vocabulary is kept by min_count and "
                                 "max_final_vocab only")
                if sorted_vocab != 1:
                    self._refuse("sorted_vocab", sorted_vocab,
                                 "the vocabulary is always sorted by count")
                if batch_words != 10000:
                    self._refuse("batch_words", batch_words, "embedkit has no job batches (each "
                                 "thread reads its own slice of the corpus)")
                self.compute_loss = bool(compute_loss)
                self.callbacks = _check_callbacks(callbacks, type(self).__name__)
                self.comment = comment
                self.max_final_vocab = (None if max_final_vocab is None
                                        else _int("max_final_vocab", max_final_vocab, 1))
                if shrink_windows is not True and shrink_windows != 1:
                    self._refuse("shrink_windows", shrink_windows,
                                 "the window is always randomly shrunk")
                if not (progress is None or isinstance(progress, bool) or callable(progress)):
                    raise TypeError(f"progress must be None, a bool or a callable, got "
                                    f"{type(progress).__name__}")
                self.progress = None
                self.wv = None

                column_batch_words, syncs_per_epoch = _distribution(
                    distribute, column_batch_words, syncs_per_epoch)
                if corpus_file is not None:
                    corpus_file = os.fspath(corpus_file)
                    if not os.path.exists(corpus_file):
                        raise FileNotFoundError(2, "No such file or directory", corpus_file)
                else:
                    tmp = tempfile.NamedTemporaryFile("w", encoding="utf-8",
                                                      prefix="embedkit-word2vec-",
                                                      suffix=".txt", delete=False)
                    with tmp:
                        _write_sentences(sentences, tmp)
                    corpus_file = tmp.name
            self._train(corpus_file, progress, comm, syncs_per_epoch, column_batch_words)
        finally:
            if tmp is not None:
                os.unlink(tmp.name)

    def _refuse(self, name, value, why):
        _unsupported(name, value, why, type(self).__name__)

    def _train(self, corpus, progress, comm=None, syncs_per_epoch=4, column_batch_words=1000):
        bar = _StderrBar(type(self).__name__) if progress is True else None
        user = progress if callable(progress) and not isinstance(progress, bool) else None
        log = logger.isEnabledFor(logging.INFO)
        state = {"callable": -math.inf, "log": -math.inf, "epoch": 0, "last": None}

        def begin_epochs(done):
            # Epoch hooks for every epoch whose words are all done (fraction * epochs).
            while state["epoch"] < min(done, self.epochs):
                self._call("on_epoch_end")
                state["epoch"] += 1
                if state["epoch"] < self.epochs:
                    self._call("on_epoch_begin")

        def on_report(p):
            self.progress = p
            state["last"] = p
            if bar is not None:
                bar(p)
            if user is not None and p.elapsed_seconds - state["callable"] >= _CALLABLE_INTERVAL:
                state["callable"] = p.elapsed_seconds
                user(p)
            if log and p.elapsed_seconds - state["log"] >= _LOG_INTERVAL:
                state["log"] = p.elapsed_seconds
                logger.info("%s training: %s", type(self).__name__, _progress_text(p))
            # The last epoch ends once the vectors are in model.wv, after training returns.
            begin_epochs(min(int(p.fraction * self.epochs + 1e-9), self.epochs - 1))

        self._call("on_train_begin")
        self._call("on_epoch_begin")
        try:
            r = _embedkit.train_word2vec(
                corpus, sg=bool(self.sg), hs=bool(self.hs), vector_size=self.vector_size,
                window=self.window, negative=self.negative, ns_exponent=self.ns_exponent,
                min_count=self.min_count, max_vocab=self.max_final_vocab or 0,
                sample=self.sample, epochs=self.epochs, alpha=self.alpha,
                min_alpha=self.min_alpha, workers=self.workers, seed=self.seed,
                progress_interval=_REPORT_INTERVAL, on_progress=on_report, comm=comm,
                syncs_per_epoch=syncs_per_epoch, column_batch_words=column_batch_words,
                **self._engine_options())
        except BaseException:
            if bar is not None and bar.tty:
                sys.stderr.write("\n")
            raise
        # The final report (train_word2vec makes one at the end); across ranks, rank 0 alone
        # gets reports.
        last = state["last"]
        if bar is not None and last is not None:
            bar(last, final=True)
        if user is not None and last is not None and state["callable"] != last.elapsed_seconds:
            user(last)
        self._set_result(r)
        begin_epochs(self.epochs)
        self._call("on_train_end")
        logger.info("%s: trained %d vectors of dimension %d on %d words in %.2f s (%.0f "
                    "words/s), final loss %.4f", type(self).__name__, len(r["words"]),
                    self.vector_size,
                    self.words_trained, self.total_train_time, self.words_per_second,
                    self.final_loss)

    _SAVE_FORMAT = _SAVE_FORMAT
    _PARAMS = _PARAMS

    def _engine_options(self):
        """Further arguments of the C++ training (embedkit.FastText adds its n-grams)."""
        return {}

    def _make_wv(self, words, vectors, extra):
        """The ``wv`` of the vectors; ``extra`` is the training result, or what ``save`` stored
        through ``_saved_arrays`` (embedkit.FastText keeps its n-gram table there)."""
        from embedkit.keyed_vectors import KeyedVectors

        return KeyedVectors(words, vectors)

    def _saved_arrays(self):
        """Arrays ``save`` stores beside the vectors (embedkit.FastText: its model)."""
        return {}

    def _set_result(self, r):
        self.wv = self._make_wv(r["words"], r["vectors"], r)
        self.counts = r["counts"]
        # gensim's wv.get_vecattr(word, "count"), as load_word2vec_format(fvocab=) sets it.
        self.wv._counts = self.counts.tolist()
        self.corpus_total_words = int(r["corpus_tokens"])
        self.words_trained = int(r["words_trained"])
        self.total_train_time = float(r["seconds"])
        self.words_per_second = float(r["words_per_second"])
        self.final_loss = float(r["final_loss"])

    def _call(self, hook):
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(self)

    def __getstate__(self):
        # A pickle (as gensim users make of models) holds no progress report: a compiled
        # object, and only meaningful during training.
        state = self.__dict__.copy()
        state["progress"] = None
        return state

    def __repr__(self):
        if self.wv is None:
            return (f"{type(self).__name__}<training, vector_size={self.vector_size}, "
                    f"alpha={self.alpha}>")
        return (f"{type(self).__name__}<vocab={len(self.wv.index_to_key)}, "
                f"vector_size={self.vector_size}, alpha={self.alpha}>")

    def save(self, fname):
        """Saves the model (vectors, counts, arguments and training figures) to `fname`, one
        NumPy .npz file, written atomically (a failed save leaves any existing file as it was).
        Unlike gensim's pickles it holds no code: ``Word2Vec.load`` reads it back. For the
        vectors alone, in the formats other tools read, use ``model.wv.save_word2vec_format``
        or ``model.wv.save``."""
        if self.wv is None:
            raise ValueError(f"{type(self).__name__}.save: the model has no vectors yet")
        fname = os.fspath(fname)
        params = {name: getattr(self, name) for name in self._PARAMS}
        params["format"] = self._SAVE_FORMAT
        words = "\n".join(self.wv.index_to_key).encode("utf-8")
        folder = os.path.dirname(os.path.abspath(fname))
        fd, tmp = tempfile.mkstemp(prefix=".embedkit-word2vec-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, vectors=np.asarray(self.wv.vectors), counts=np.asarray(self.counts),
                         words=np.frombuffer(words, dtype=np.uint8),
                         params=np.frombuffer(json.dumps(params).encode(), dtype=np.uint8),
                         **self._saved_arrays())
            os.replace(tmp, fname)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, fname):
        """Loads a model that ``save`` wrote. gensim's pickled models are not read
        (ValueError); load their vectors with ``KeyedVectors.load_word2vec_format`` after
        ``model.wv.save_word2vec_format`` in gensim."""
        fname = os.fspath(fname)
        extra = {}
        with open(fname, "rb") as f:  # OSError (FileNotFoundError ...) as it is
            try:
                data = np.load(f, allow_pickle=False)
                if not isinstance(data, np.lib.npyio.NpzFile):
                    raise ValueError("a single array, not an .npz file")
                with data:
                    params = json.loads(bytes(data["params"]).decode())
                    words = bytes(data["words"]).decode("utf-8")
                    vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
                    counts = np.asarray(data["counts"], dtype=np.int64)
                    extra = {name: data[name] for name in data.files
                             if name not in ("params", "words", "vectors", "counts")}
            except (ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
                raise ValueError(f"{fname}: not a model saved by embedkit's {cls.__name__}.save "
                                 f"({e})") from None
        words = words.split("\n") if words else []
        if params.get("format") != cls._SAVE_FORMAT or vectors.ndim != 2 or \
                len(words) != vectors.shape[0] or counts.shape != (len(words),):
            raise ValueError(f"{fname}: not a model saved by embedkit's {cls.__name__}.save, "
                             "or a damaged one")
        model = cls.__new__(cls)
        for name in cls._PARAMS:
            setattr(model, name, params[name])
        model.callbacks = ()
        model.progress = None
        model.counts = counts
        model.wv = model._make_wv(words, vectors, extra)
        model.wv._counts = counts.tolist()
        return model
