"""fastText's Python API for embedkit's text classifier.

``train_supervised`` takes fastText 0.9.2's argument names and defaults and returns a model with
fastText's methods and return types (``predict``, ``test``, ``get_word_vector``,
``save_model``...); ``load_model`` reads a model back. A fastText user changes the import::

    import embedkit as fasttext
    model = fasttext.train_supervised(input="train.txt", epoch=25, wordNgrams=2)
    model.predict("a line of text", k=3)

The classifier is embedkit's (``embedkit classify`` on the command line), saved as one
safetensors file, not fastText's ``.bin``; ``model.quantize(...)`` makes it fastText's quantized
model, which ``save_model`` writes as fastText's ``.ftz`` (``embedkit quantize`` on the command
line). ``train_unsupervised`` trains fastText's subword
word vectors and returns a ``FastTextModel``, which saves fastText's ``.bin``; ``load_model``
reads fastText's ``.bin``/``.ftz`` files (supervised or not) as ``FastTextModel``s too.

An argument embedkit cannot honour (the ``ova`` loss, ``lrUpdateRate``, ...) raises ``ValueError``
saying so: it is never silently ignored.
``ws`` and ``t`` are accepted because fastText itself does not use them in supervised training.
"""

import multiprocessing
import os
import sys

import numpy as np

from embedkit import _embedkit

__all__ = ["train_supervised", "train_unsupervised", "load_model", "TextClassifier",
           "FastTextModel"]

# fastText 0.9.2's train_supervised arguments, in its order, with its defaults.
_DEFAULTS = {
    "input": None,
    "lr": 0.1,
    "dim": 100,
    "ws": 5,
    "epoch": 5,
    "minCount": 1,
    "minCountLabel": 0,
    "minn": 0,
    "maxn": 0,
    "neg": 5,
    "wordNgrams": 1,
    "loss": "softmax",
    "bucket": 2000000,
    "thread": max(1, multiprocessing.cpu_count() - 1),
    "lrUpdateRate": 100,
    "t": 1e-4,
    "label": "__label__",
    "verbose": 2,
    "pretrainedVectors": "",
    "seed": 0,
    "autotuneValidationFile": "",
    "autotuneMetric": "f1",
    "autotunePredictions": 1,
    "autotuneDuration": 60 * 5,
    "autotuneModelSize": "",
}

# fastText 0.9.2's train_unsupervised arguments, in its order, with its defaults (its
# unsupervised_default; thread as train_supervised's).
_UNSUPERVISED_DEFAULTS = {
    "input": None,
    "model": "skipgram",
    "lr": 0.05,
    "dim": 100,
    "ws": 5,
    "epoch": 5,
    "minCount": 5,
    "minCountLabel": 0,
    "minn": 3,
    "maxn": 6,
    "neg": 5,
    "wordNgrams": 1,
    "loss": "ns",
    "bucket": 2000000,
    "thread": max(1, multiprocessing.cpu_count() - 1),
    "lrUpdateRate": 100,
    "t": 1e-4,
    "label": "__label__",
    "verbose": 2,
    "pretrainedVectors": "",
    "seed": 0,
    "autotuneValidationFile": "",
    "autotuneMetric": "f1",
    "autotunePredictions": 1,
    "autotuneDuration": 60 * 5,
    "autotuneModelSize": "",
}

# train_unsupervised's arguments embedkit cannot honour at other values than these, and why.
_UNSUPERVISED_UNSUPPORTED = {
    "lrUpdateRate": (100, "embedkit recomputes the learning rate continuously, so the update "
                          "rate cannot be set"),
    "pretrainedVectors": ("", "embedkit's word vector training starts from random vectors"),
    "autotuneValidationFile": ("", "fastText autotunes supervised models only"),
    "autotuneModelSize": ("", "fastText autotunes supervised models only"),
}

# Arguments embedkit cannot honour at other values than these, and why.
_UNSUPPORTED = {
    "lrUpdateRate": (100, "embedkit recomputes the learning rate at every line, so the "
                          "update rate cannot be set"),
}

# fastText's names of the options autotune searches, with embedkit's: one given by the caller
# is not searched (fastText's rule).
_SEARCHED = {"epoch": "epochs", "lr": "lr", "dim": "dim", "wordNgrams": "word_ngrams",
             "bucket": "buckets", "minn": "minn", "maxn": "maxn", "loss": "loss"}

# The first 4 bytes of a fastText model file (int32 793712314, little-endian).
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")

# How often (seconds) training comes back to Python: progress lines and Ctrl-C.
_PROGRESS_INTERVAL = 0.1


def _check_line(text):
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    if "\n" in text:
        raise ValueError("predict processes one line at a time (remove '\\n')")
    return text


def _int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


class _Progress:
    """fastText's progress lines on stderr (verbose >= 2): autotune's, then training's."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.tuning = False

    def __call__(self, report):
        if self.verbose < 2:
            return
        eta = int(report["eta_seconds"])
        if report.get("autotune"):
            self.tuning = True
            best = report["best_score"]
            sys.stderr.write(
                f"\rProgress: {100 * report['fraction']:5.1f}% Trials: {report['trials']:4d} "
                f"Best score: {'unknown' if best is None else f'{best:9.6f}'} "
                f"ETA: {eta // 3600:3d}h{eta // 60 % 60:2d}m{eta % 60:2d}s")
            sys.stderr.flush()
            return
        if self.tuning:
            self.tuning = False
            sys.stderr.write("\nTraining again with best arguments\n")
        sys.stderr.write(
            f"\rProgress: {100 * report['fraction']:5.1f}% "
            f"words/sec/thread: {report['words_per_second_per_thread']:7.0f} "
            f"lr: {report['lr']:9.6f} avg.loss: {report['loss']:9.6f} "
            f"ETA: {eta // 3600:3d}h{eta // 60 % 60:2d}m{eta % 60:2d}s")
        if report["fraction"] >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()


def train_supervised(*args, **kwargs):
    """Trains a text classifier on a labelled file and returns the model (a ``TextClassifier``).

    fastText 0.9.2's arguments, names and defaults: ``input`` (the path of a file in fastText's
    format, ``__label__x words...``, one example a line), ``lr=0.1``, ``dim=100``, ``ws=5``,
    ``epoch=5``, ``minCount=1``, ``minCountLabel=0``, ``minn=0``, ``maxn=0``, ``neg=5``,
    ``wordNgrams=1``, ``loss="softmax"`` (or ``"hs"``, ``"ns"``), ``bucket=2000000``,
    ``thread=cpu_count() - 1``, ``lrUpdateRate=100``, ``t=1e-4``, ``label="__label__"``,
    ``verbose=2`` (>= 2: a progress line on stderr), ``pretrainedVectors=""`` (a word-vectors
    file, ``.vec`` or any format embedkit reads: its words join the vocabulary and its vectors
    start their rows, as fastText's do), ``seed=0``, and the autotune arguments
    ``autotuneValidationFile=""`` (a labelled file: when given, the options are searched as
    fastText's autotune does, scoring each candidate on that file, and the model is trained with
    the best; the arguments given in the call are not searched), ``autotuneMetric="f1"``
    (``"f1:__label__x"``, ``"precisionAtRecall:30"``, ...), ``autotunePredictions=1``,
    ``autotuneDuration=300`` (seconds) and ``autotuneModelSize=""`` (a byte budget such as
    ``"2M"``, with k/K, m/M, g/G for 10^3, 10^6, 10^9: each candidate is also quantized to fit it,
    the quantizer's ``dsub`` searched too, and the model returned is quantized, as with
    ``quantize(qnorm=True, retrain=True, cutoff=...)`` at the largest cutoff that fits, so that
    ``save_model`` writes an ``.ftz`` of at most that many bytes; as ``embedkit classify train
    --autotune-modelsize``). Positional arguments follow that order, as fastText's do.

    With ``thread=1`` the same file, arguments and seed give the same model bit for bit. The GIL
    is released while training; Ctrl-C raises ``KeyboardInterrupt`` within a tenth of a second.

    Raises ``FileNotFoundError`` (an ``OSError``) when ``input`` does not exist, ``ValueError``
    for a file that is not labelled text (a line without a label or without words, no labelled
    line), for bad values (``maxn`` > 0 needs ``1 <= minn <= maxn``), and for arguments embedkit
    cannot honour (``minCountLabel`` > 1, ``loss="ova"``, another ``lrUpdateRate``), for a
    validation label that no training line carries, for an ``autotuneModelSize`` that is not a
    size, is given without ``autotuneValidationFile``, or is below the smallest model the labels
    allow (or that no candidate fits: ``RuntimeError``); ``TypeError`` for an unknown argument.
    """
    names = list(_DEFAULTS)
    params = _call_arguments("train_supervised", _DEFAULTS, args, kwargs)
    path = params["input"]
    if path is None:
        raise TypeError("train_supervised needs input (the path of a labelled file)")
    path = os.fspath(path)
    for name, (default, why) in _UNSUPPORTED.items():
        if params[name] != default:
            raise ValueError(f"{name}={params[name]!r} cannot be honoured: {why}")
    min_count_label = _int("minCountLabel", params["minCountLabel"], 0)
    if min_count_label > 1:
        raise ValueError(f"minCountLabel={min_count_label} cannot be honoured: embedkit's "
                         "classifier keeps every label it sees")
    if params["loss"] not in ("softmax", "hs", "ns"):
        raise ValueError(f"loss={params['loss']!r} cannot be honoured: embedkit's classifier "
                         "has the losses 'softmax', 'hs' and 'ns'")
    _int("ws", params["ws"], 1)
    if not isinstance(params["t"], (int, float)) or not params["t"] > 0:
        raise ValueError(f"t must be > 0, got {params['t']!r}")
    verbose = _int("verbose", params["verbose"], 0)
    validation = os.fspath(params["autotuneValidationFile"])
    duration = params["autotuneDuration"]
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
        raise ValueError(f"autotuneDuration must be > 0 seconds, got {duration!r}")
    model_size = params["autotuneModelSize"]
    if not isinstance(model_size, str):
        raise TypeError(f"autotuneModelSize must be a str such as '2M', got "
                        f"{type(model_size).__name__}")
    given = set(kwargs) | set(names[:len(args)])
    # fastText needs no buckets when there are no word n-grams (and no subwords).
    word_ngrams = _int("wordNgrams", params["wordNgrams"], 1)
    model, quantized = _embedkit.TextClassifier.train(
        path,
        dim=_int("dim", params["dim"], 1),
        lr=float(params["lr"]),
        epochs=_int("epoch", params["epoch"], 1),
        word_ngrams=word_ngrams,
        buckets=_int("bucket", params["bucket"], 0),
        minn=_int("minn", params["minn"], 0),
        maxn=_int("maxn", params["maxn"], 0),
        min_count=_int("minCount", params["minCount"], 1),
        loss=params["loss"],
        negative=_int("neg", params["neg"], 1),
        threads=_int("thread", params["thread"], 1),
        seed=_int("seed", params["seed"], 0),
        label_prefix=str(params["label"]),
        progress=_Progress(verbose),
        progress_interval=_PROGRESS_INTERVAL,
        pretrained_vectors=os.fspath(params["pretrainedVectors"]),
        autotune_validation=validation,
        autotune_metric=str(params["autotuneMetric"]),
        autotune_predictions=_int("autotunePredictions", params["autotunePredictions"], 1),
        autotune_duration=float(duration),
        autotune_fixed=[ours for theirs, ours in _SEARCHED.items() if theirs in given],
        autotune_model_size=model_size,
    )
    classifier = TextClassifier(model)
    classifier._verbose = verbose
    if quantized is not None:
        classifier._quantized = FastTextModel(quantized, model.label_prefix)
    return classifier


def _call_arguments(function, defaults, args, kwargs):
    """fastText's argument handling: positional in the defaults' order, then keywords; a
    TypeError for too many, unknown or repeated ones."""
    names = list(defaults)
    if len(args) > len(names):
        raise TypeError(f"{function} takes at most {len(names)} positional arguments")
    params = dict(defaults)
    for name, value in zip(names, args):
        params[name] = value
    for name, value in kwargs.items():
        if name not in defaults:
            raise TypeError(f"{function} got an unexpected argument '{name}'")
        if name in names[:len(args)]:
            raise TypeError(f"{function} got multiple values for argument '{name}'")
        params[name] = value
    return params


class _UnsupervisedProgress(_Progress):
    """fastText's progress line from word2vec's reports (Word2VecProgress)."""

    def __init__(self, verbose, threads):
        super().__init__(verbose)
        self.threads = threads

    def __call__(self, p):
        super().__call__({"fraction": p.fraction,
                          "words_per_second_per_thread": p.words_per_second / self.threads,
                          "lr": p.alpha, "loss": p.loss, "eta_seconds": p.eta_seconds})


def train_unsupervised(*args, **kwargs):
    """Trains word vectors with subwords on a text file, as fastText does, and returns the
    model (a ``FastTextModel``).

    fastText 0.9.2's arguments, names and defaults: ``input`` (the path of a text file, plain
    or gzip, tokens separated by whitespace), ``model="skipgram"`` (or ``"cbow"``), ``lr=0.05``,
    ``dim=100``, ``ws=5``, ``epoch=5``, ``minCount=5``, ``minCountLabel=0``, ``minn=3``,
    ``maxn=6`` (character n-grams of minn..maxn characters; ``maxn=0`` turns them off),
    ``neg=5``, ``wordNgrams=1``, ``loss="ns"`` (or ``"hs"``), ``bucket=2000000``,
    ``thread=cpu_count() - 1``, ``lrUpdateRate=100``, ``t=1e-4``, ``label="__label__"``,
    ``verbose=2`` (>= 2: a progress line on stderr), ``pretrainedVectors=""``, ``seed=0``.
    Positional arguments follow that order, as fastText's do.

    The training is embedkit's (``embedkit train --minn --maxn --bucket``): fastText's
    n-grams, hashing, subsampling (``t``) and negative table (counts to the power 0.5), the
    learning rate decaying linearly from ``lr``; skip-gram updates a word's rows once per
    centre word rather than once per context word (docs/python.md). The model's vectors and
    files are fastText's: ``save_model`` writes a ``.bin`` that fastText reads and answers
    alike, OOV words included. ``wordNgrams``, ``minCountLabel`` and ``label`` are accepted and
    unused, as fastText does not use them for word vectors. Unlike fastText's, the dictionary
    has no ``"</s>"`` (fastText counts each line's end as a word), tokens that start with
    ``label`` are words, not labels, and ``seed`` (which Debian's fastText 0.9.2 module does
    not take here) seeds the training.

    The GIL is released while training; Ctrl-C raises ``KeyboardInterrupt`` within a tenth of a
    second. With ``thread=1`` the same file, arguments and seed give the same model bit for bit.

    Raises ``FileNotFoundError`` when ``input`` does not exist; ``ValueError`` for an empty
    corpus or one where no word reaches ``minCount``, for bad values (``maxn`` > 0 needs
    ``1 <= minn <= maxn`` and ``bucket >= 1``: fastText itself divides by zero with
    ``bucket=0``), and for what embedkit cannot honour (``loss="softmax"`` or ``"ova"``,
    another ``lrUpdateRate``, ``pretrainedVectors``, the autotune arguments); ``TypeError`` for
    an unknown argument or a value of the wrong type.
    """
    params = _call_arguments("train_unsupervised", _UNSUPERVISED_DEFAULTS, args, kwargs)
    path = params["input"]
    if path is None:
        raise TypeError("train_unsupervised needs input (the path of a text file)")
    path = os.fspath(path)
    for name, (default, why) in _UNSUPERVISED_UNSUPPORTED.items():
        if params[name] != default:
            raise ValueError(f"{name}={params[name]!r} cannot be honoured: {why}")
    model = params["model"]
    if model not in ("skipgram", "cbow"):
        raise ValueError(f"model={model!r}: train_unsupervised trains 'skipgram' or 'cbow' "
                         "(train_supervised trains classifiers)")
    loss = params["loss"]
    if loss not in ("ns", "hs"):
        raise ValueError(f"loss={loss!r} cannot be honoured: embedkit trains word vectors with "
                         "'ns' or 'hs'")
    minn = _int("minn", params["minn"], 0)
    maxn = _int("maxn", params["maxn"], 0)
    bucket = _int("bucket", params["bucket"], 0)
    if maxn > 0:
        if not 1 <= minn <= maxn:
            raise ValueError(f"minn={minn}, maxn={maxn}: character n-grams need 1 <= minn <= "
                             "maxn (maxn=0 turns them off)")
        if bucket < 1:
            raise ValueError("bucket=0 with maxn > 0 leaves the n-grams no rows: give bucket "
                             ">= 1, or maxn=0 for no n-grams (fastText divides by zero here)")
    _int("wordNgrams", params["wordNgrams"], 1)
    _int("minCountLabel", params["minCountLabel"], 0)
    t = params["t"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
        raise ValueError(f"t must be > 0, got {t!r}")
    lr = params["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    threads = _int("thread", params["thread"], 1)
    verbose = _int("verbose", params["verbose"], 0)
    options = dict(
        sg=model == "skipgram", hs=loss == "hs", vector_size=_int("dim", params["dim"], 1),
        window=_int("ws", params["ws"], 1),
        negative=0 if loss == "hs" else _int("neg", params["neg"], 1),
        ns_exponent=0.5,  # fastText's negative table: counts to the power 0.5
        min_count=_int("minCount", params["minCount"], 1), max_vocab=0, sample=float(t),
        epochs=_int("epoch", params["epoch"], 1), alpha=float(lr), min_alpha=None,
        workers=threads, seed=_int("seed", params["seed"], 0),
        # without n-grams the bucket count is not used (fastText's file then says 0)
        minn=minn if maxn > 0 else 0, maxn=maxn, bucket=bucket if maxn > 0 else 1)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    r = _embedkit.train_word2vec(path, progress_interval=_PROGRESS_INTERVAL,
                                 on_progress=_UnsupervisedProgress(verbose, threads),
                                 fasttext_model=True, **options)
    return FastTextModel(r["fasttext_model"])


def _is_fasttext_file(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == _FASTTEXT_MAGIC
    except IsADirectoryError:
        return False


def load_model(path):
    """Loads a model: a fastText ``.bin`` or ``.ftz`` (supervised or not, as fastText's
    ``load_model``; a ``FastTextModel``), or a classifier saved by
    ``TextClassifier.save_model`` (a ``TextClassifier``), told apart by fastText's magic number.

    Raises ``FileNotFoundError`` for a missing file and ``OSError`` naming the problem for a
    truncated or damaged file, or one that is neither.
    """
    path = os.fspath(path)
    if _is_fasttext_file(path):
        return FastTextModel(_embedkit.FastTextModel.load(path))
    return TextClassifier(_embedkit.TextClassifier.load(path))


class TextClassifier:
    """A trained text classifier with fastText's Python methods.

    Made by ``train_supervised`` or ``load_model``. Labels are shown with their prefix
    (``"__label__pos"``), as fastText shows them. The model changes only by ``quantize``, which
    replaces it as a whole once the quantized model is made; its methods may be called from
    several threads (``predict`` releases the GIL).

    Once quantized (``quantize``, or ``train_supervised`` with ``autotuneModelSize``), the model
    is fastText's quantized model: ``predict``, ``test``, ``test_label``, the vectors and the
    dictionary (the words ``cutoff`` kept) come from its codes, as ``embedkit classify
    predict|test`` and fastText read the ``.ftz``, and ``save_model`` writes that ``.ftz``.
    ``get_input_matrix`` (and ``get_output_matrix`` after ``qout=True``) then raise
    ``ValueError``: the matrix is stored as codes, as fastText raises.
    """

    def __init__(self, model):
        if not isinstance(model, _embedkit.TextClassifier):
            raise TypeError("TextClassifier wraps a trained model: use train_supervised or "
                            "load_model")
        self._model = model
        self._word_ids = None  # word -> row, built on the first get_word_id
        self._quantized = None  # the FastTextModel of quantize(), which then answers
        self._verbose = 2  # train_supervised's, quantize's default (fastText's)

    def __repr__(self):
        quantized = ", quantized" if self._quantized is not None else ""
        return (f"<embedkit.fasttext.TextClassifier: {len(self.words)} words, "
                f"{len(self.labels)} labels, dim {self.get_dimension()}, "
                f"loss {self._model.loss}{quantized}>")

    # -- prediction ------------------------------------------------------------------------

    def predict(self, text, k=1, threshold=0.0):
        """The ``k`` most probable labels of a line and their probabilities, fastText's way.

        For one string: a tuple ``(labels, probabilities)``, labels a tuple of str and
        probabilities a float64 NumPy array, most probable first. For a list of strings: a
        tuple ``(list of label lists, list of float32 arrays)``, one entry per string. Labels
        below ``threshold`` are left out. ``k=-1`` asks for every label. Words are split on
        whitespace; a line may not hold '\\n' (ValueError); tokens with the label prefix are
        not words. A quantized model gives what fastText's ``predict`` gives from the ``.ftz``
        (its probabilities are fastText's ``p + 1e-5``, as ``predict-prob`` prints them).
        """
        if self._quantized is not None:
            return self._quantized.predict(text, k, threshold)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an int, got {type(k).__name__}")
        k = int(k)
        if k == -1:
            k = len(self.labels)
        if k < 1:
            raise ValueError("k needs to be 1 or higher!")
        threshold = float(threshold)
        if isinstance(text, list):
            lines = [_check_line(t) for t in text]
            results = self._model.predict(lines, k, threshold)
            return ([labels for labels, _ in results],
                    [probs.astype(np.float32) for _, probs in results])
        labels, probs = self._model.predict([_check_line(text)], k, threshold)[0]
        return tuple(labels), probs

    def test(self, path, k=1, threshold=0.0):
        """fastText's test over a labelled file: ``(N, precision@k, recall@k)``.

        N counts the lines; each predicts its top ``k`` labels above ``threshold``; precision is
        correct / predicted and recall correct / gold labels.
        """
        if self._quantized is not None:
            return self._quantized.test(path, k, threshold)
        return _test_result(self._evaluate(path, k, threshold))

    def test_label(self, path, k=1, threshold=0.0):
        """Per label: ``{label: {"precision", "recall", "f1score"}}`` over a labelled file."""
        if self._quantized is not None:
            return self._quantized.test_label(path, k, threshold)
        return _label_scores(self._evaluate(path, k, threshold))

    def _evaluate(self, path, k, threshold):
        k = _test_k(k, len(self.labels))
        return self._model.evaluate(os.fspath(path), k, float(threshold))

    # -- vectors ---------------------------------------------------------------------------

    def get_word_vector(self, word):
        """The word's vector (float32 array of ``dim``), as fastText's: the mean of its input row
        and, with subwords (``maxn`` > 0), its character n-gram rows, so that a word outside the
        vocabulary has one; zeros for an unknown word without subwords."""
        if self._quantized is not None:
            return self._quantized.get_word_vector(word)
        return self._model.word_vector(word)

    def get_sentence_vector(self, text):
        """The line's hidden vector: the mean of the rows it looks up (words, "</s>",
        n-gram buckets), what the classifier scores."""
        if self._quantized is not None:
            return self._quantized.get_sentence_vector(text)
        return self._model.sentence_vector(_check_line(text))

    def get_input_matrix(self):
        """The input table [words (+ buckets), dim], a read-only view (no copy); ``ValueError``
        once quantized."""
        if self._quantized is not None:
            return self._quantized.get_input_matrix()
        a = self._model.input_matrix
        a.flags.writeable = False
        return a

    def get_output_matrix(self):
        """The output table [labels (hs: inner nodes), dim], a read-only view (no copy);
        ``ValueError`` once quantized with ``qout=True``."""
        if self._quantized is not None:
            return self._quantized.get_output_matrix()
        a = self._model.output_matrix
        a.flags.writeable = False
        return a

    # -- dictionary ------------------------------------------------------------------------

    def get_words(self, include_freq=False):
        """The words of the model (most frequent first, "</s>" among them); with
        ``include_freq`` a tuple ``(words, counts array)``. Once quantized with a ``cutoff``,
        the words it kept."""
        if self._quantized is not None:
            return self._quantized.get_words(include_freq)
        words = self._model.words
        return (words, np.array(self._model.word_counts)) if include_freq else words

    def get_labels(self, include_freq=False):
        """The labels, prefixed (most frequent first); with ``include_freq`` a tuple
        ``(labels, counts array)``."""
        if self._quantized is not None:
            return self._quantized.get_labels(include_freq)
        labels = self._model.labels
        return (labels, np.array(self._model.label_counts)) if include_freq else labels

    def get_word_id(self, word):
        """The word's row in the input matrix, or -1 when the model does not hold it."""
        if self._quantized is not None:
            return self._quantized.get_word_id(word)
        if self._word_ids is None:
            self._word_ids = {w: i for i, w in enumerate(self._model.words)}
        return self._word_ids.get(word, -1)

    def get_dimension(self):
        """The dimension of the vectors."""
        return self._model.dim

    def is_quantized(self):
        """Whether the model was quantized (``quantize``, or ``autotuneModelSize``)."""
        return self._quantized is not None

    def quantize(self, input=None, qout=False, cutoff=0, retrain=False, epoch=None, lr=None,
                 thread=None, verbose=None, dsub=2, qnorm=False):
        """Quantizes the model in place, as fastText's ``model.quantize`` (fastText 0.9.2's
        arguments, names and defaults): the input matrix by product quantization, ``dsub``
        values a one-byte code, with ``qnorm`` each row's norm quantized apart, with ``qout`` the
        output matrix too; ``cutoff`` (when below the input rows) keeps that many input rows
        (words and n-gram buckets) of largest norm; ``retrain=True`` then trains the kept rows
        again on ``input``, the labelled file the model was trained on (its labels with the
        model's label prefix), for ``epoch`` epochs at ``lr`` on ``thread`` threads (by default
        the model's own), before they are quantized. ``verbose`` >= 2 (default: the
        ``train_supervised`` call's) prints the retraining's progress line on stderr.

        The result is what ``embedkit quantize`` writes for the saved model with the same
        options (k-means seed 1234): the same ``.ftz`` bytes from ``save_model``, and with
        ``thread=1`` the same after retraining too. As fastText, ``cutoff=0`` (or at or above
        the rows) keeps every row and then ``retrain`` retrains nothing, and ``input`` is read
        only to retrain. The GIL is released; Ctrl-C stops a retraining with
        ``KeyboardInterrupt``.

        Raises ``ValueError`` (the model left as it was) for ``retrain=True`` without ``input``,
        an already quantized model, ``dsub`` outside ``[1, dim]``, a model fastText would read
        differently (the ``hs`` loss), a retraining file none of whose lines carries a label of
        the model, a retraining whose loss diverges (``RuntimeError``: lower ``lr``);
        ``FileNotFoundError`` for a missing ``input``.
        """
        if self._quantized is not None:
            raise ValueError("the model is already quantized")
        m = self._model
        verbose = self._verbose if verbose is None else verbose
        native = _quantize(_embedkit.fasttext_model_of_classifier(m), m.label_prefix, input, qout,
                           cutoff, retrain, epoch or m.epochs, lr or m.lr, thread or m.threads,
                           verbose, dsub, qnorm, m.seed)
        self._quantized = FastTextModel(native, m.label_prefix)
        self._word_ids = None

    @property
    def words(self):
        """The words of the model, as ``get_words()``."""
        return self.get_words()

    @property
    def labels(self):
        """The labels of the model, as ``get_labels()``."""
        return self.get_labels()

    # -- files -----------------------------------------------------------------------------

    def save_model(self, path):
        """Saves the model in one file (safetensors), atomically: a failed save leaves an
        existing file as it was. ``load_model`` reads it back. Once quantized, the file is
        fastText's ``.ftz`` (whatever ``path`` ends with), which Debian's ``fasttext``,
        fastText's ``load_model`` and ``embedkit.load_model`` (a ``FastTextModel``) read."""
        if self._quantized is not None:
            self._quantized.save_model(path)
            return
        self._model.save(os.fspath(path))


def _test_k(k, labels):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    k = labels if k == -1 else int(k)
    if k < 1:
        raise ValueError("k needs to be 1 or higher!")
    return k


def _test_result(r):
    """fastText's test tuple ``(N, precision@k, recall@k)`` of an evaluation dict."""
    return r["examples"], r["precision"], r["recall"]


def _label_scores(r):
    """fastText's test_label dict of an evaluation dict's per-label counts."""
    out = {}
    for label, (gold, predicted, correct) in r["per_label"].items():
        p = correct / predicted if predicted else 0.0
        rec = correct / gold if gold else 0.0
        out[label] = {"precision": p, "recall": rec,
                      "f1score": 2 * p * rec / (p + rec) if p + rec > 0 else 0.0}
    return out


def _quantize(native, label_prefix, input, qout, cutoff, retrain, epoch, lr, thread, verbose,
              dsub, qnorm, seed):
    """fastText's quantize arguments checked, then the quantized model (a new native
    FastTextModel; ``native`` is left as it was)."""
    if retrain and not input:
        raise ValueError("Need input file path if retraining")  # fastText's words
    for name, value in (("qout", qout), ("retrain", retrain), ("qnorm", qnorm)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    verbose = _int("verbose", verbose, 0)
    return _embedkit.quantize_fasttext_model(
        native, dsub=_int("dsub", dsub, 1), qnorm=bool(qnorm), qout=bool(qout),
        cutoff=_int("cutoff", cutoff, 0),
        retrain_input=os.fspath(input) if retrain else "", label_prefix=label_prefix,
        epochs=_int("epoch", epoch, 1), lr=float(lr), threads=_int("thread", thread, 1),
        seed=seed, progress=_Progress(verbose), progress_interval=_PROGRESS_INTERVAL)


def _char_ngrams(word, minn, maxn):
    """fastText's character n-grams of a word, as text, in its order (start ascending, then
    length): minn..maxn characters of "<word>", the lone "<" and ">" left out. A Python
    character is one UTF-8 sequence, the unit fastText counts."""
    wrapped = f"<{word}>"
    out = []
    for i in range(len(wrapped)):
        for n in range(1, maxn + 1):
            if i + n > len(wrapped):
                break
            if n >= minn and not (n == 1 and (i == 0 or i + n == len(wrapped))):
                out.append(wrapped[i:i + n])
    return out


class FastTextModel:
    """A fastText model with the methods of fastText's Python ``_FastText``: made by
    ``train_unsupervised``, or read from a fastText ``.bin``/``.ftz`` by ``load_model``.

    Word vectors are fastText's: a word's vector is the mean of its own row (when in the
    dictionary) and its character n-gram rows, so any word has one (zeros when it has no
    n-gram, or the model none). The model changes only by ``quantize``, which replaces it as a
    whole once the quantized model is made; its methods may be called from several threads.

    A supervised model reads a line as fastText's ``getLine`` does: its tokens that start with
    ``label_prefix`` (fastText's ``"__label__"``; a fastText file does not store the prefix it
    was trained with) are labels, not words, and ``test`` reads the labels with that prefix.
    """

    def __init__(self, model, label_prefix="__label__"):
        if not isinstance(model, _embedkit.FastTextModel):
            raise TypeError("FastTextModel wraps a trained model: use train_unsupervised or "
                            "load_model")
        if not isinstance(label_prefix, str) or not label_prefix:
            raise ValueError("label_prefix must be a non-empty str")
        self._model = model
        self._args = model.args
        self._label_prefix = label_prefix
        self._neighbours = None  # KeyedVectors of the dictionary's word vectors, on first use

    def __repr__(self):
        kind = "supervised" if self._model.supervised else self._args["model"]
        return (f"<embedkit.fasttext.FastTextModel: {kind}, {self._model.num_words} words, "
                f"dim {self._model.dim}, minn {self._args['minn']}, maxn {self._args['maxn']}, "
                f"bucket {self._args['bucket']}>")

    # -- vectors ---------------------------------------------------------------------------

    def get_word_vector(self, word):
        """The word's vector (float32 array of ``dim``), in the dictionary or not (see the
        class)."""
        return self._model.word_vector(_check_word(word))

    def __getitem__(self, word):
        return self.get_word_vector(word)

    def __contains__(self, word):
        """Whether the word is in the dictionary (fastText's ``word in model``)."""
        return isinstance(word, str) and self._model.word_id(word) >= 0

    def get_sentence_vector(self, text):
        """fastText's sentence vector of a line: the mean of its words' unit vectors
        (unsupervised), or of the rows it looks up (supervised; its labels left out)."""
        text = _check_line(text)
        if self._model.supervised:
            return self._model.sentence_vector(self._model.line_words(text, self._label_prefix))
        return self._model.sentence_vector(text.split())

    def get_input_vector(self, ind):
        """Row ``ind`` of the input matrix (a copy)."""
        return np.array(self.get_input_matrix()[ind])

    def get_input_matrix(self):
        """The input matrix ``[nwords + bucket, dim]`` (words, then n-gram buckets), a
        read-only view (no copy). ``ValueError`` for a quantized model."""
        a = self._model.input_matrix
        a.flags.writeable = False
        return a

    def get_output_matrix(self):
        """The output matrix, a read-only view (no copy)."""
        a = self._model.output_matrix
        a.flags.writeable = False
        return a

    def _keyed_vectors(self):
        if self._neighbours is None:
            from embedkit.keyed_vectors import KeyedVectors

            self._neighbours = KeyedVectors(self._model.words, self._model.word_vector_matrix())
        return self._neighbours

    def _nearest(self, query, k, banned):
        k = _int("k", k, 1)
        kv = self._keyed_vectors()
        exclude = [row for row in (kv.get_index(w, -1) for w in banned) if row >= 0]
        k = min(k, len(kv) - len(exclude))
        if k < 1:
            return []
        found = kv._native.most_similar_to_vector(np.asarray(query, dtype=np.float32), k,
                                                  exclude, len(kv))
        return [(score, word) for word, score in found]

    def get_nearest_neighbors(self, word, k=10, on_unicode_error="strict"):
        """The ``k`` dictionary words nearest to ``word`` (in the dictionary or not) by cosine:
        a list of ``(similarity, word)``, most similar first, the word itself left out
        (fastText's ``nn``)."""
        _check_unicode_errors(on_unicode_error)
        return self._nearest(self.get_word_vector(word), k, [word])

    def get_analogies(self, wordA, wordB, wordC, k=10, on_unicode_error="strict"):
        """fastText's ``analogies``: the ``k`` words nearest to A - B + C (each word's unit
        vector), the three left out: ``get_analogies("berlin", "germany", "france")``."""
        _check_unicode_errors(on_unicode_error)
        query = np.zeros(self._model.dim, dtype=np.float32)
        for word, sign in ((wordA, 1.0), (wordB, -1.0), (wordC, 1.0)):
            v = self.get_word_vector(word)
            query += sign * v / (np.linalg.norm(v) + np.float32(1e-8))
        return self._nearest(query, k, [wordA, wordB, wordC])

    # -- dictionary ------------------------------------------------------------------------

    def get_words(self, include_freq=False, on_unicode_error="strict"):
        """The dictionary's words (most frequent first); with ``include_freq`` a tuple
        ``(words, counts array)``."""
        _check_unicode_errors(on_unicode_error)
        words = self._model.words
        return (words, np.array(self._model.word_counts, dtype=np.int64)) if include_freq \
            else words

    def get_labels(self, include_freq=False, on_unicode_error="strict"):
        """The labels of a supervised model; an unsupervised one's words, as fastText
        answers."""
        _check_unicode_errors(on_unicode_error)
        if not self._model.supervised:
            return self.get_words(include_freq)
        labels = self._model.labels
        return (labels, np.array(self._model.label_counts, dtype=np.int64)) if include_freq \
            else labels

    @property
    def words(self):
        return self.get_words()

    @property
    def labels(self):
        return self.get_labels()

    def get_word_id(self, word):
        """The word's row in the input matrix, or -1 when it is not in the dictionary."""
        return self._model.word_id(_check_word(word))

    def get_subword_id(self, subword):
        """The input row of a character n-gram: nwords + its bucket."""
        _check_word(subword)
        bucket = self._args["bucket"]
        if bucket < 1:
            raise ValueError("the model has no n-gram buckets (bucket 0)")
        return self._model.num_words + _embedkit.word_hash(subword) % bucket

    def get_subwords(self, word, on_unicode_error="strict"):
        """``(subwords, rows)``: the word itself when in the dictionary, then its character
        n-grams, and their input rows (int64 array), as fastText's ``get_subwords``."""
        _check_unicode_errors(on_unicode_error)
        rows = self._model.subword_rows(_check_word(word))
        texts = [word] if self._model.word_id(word) >= 0 else []
        if self._args["maxn"] > 0 and word != "</s>":  # fastText's end of line has none
            texts += _char_ngrams(word, self._args["minn"], self._args["maxn"])
        if len(texts) != len(rows):
            raise ValueError("get_subwords: the model's n-gram buckets were pruned (quantize "
                             "-cutoff), so the rows no longer name their n-grams")
        return texts, rows

    def get_dimension(self):
        """The dimension of the vectors."""
        return self._model.dim

    def is_quantized(self):
        """Whether the model is quantized (an ``.ftz``)."""
        return self._model.quantized

    # -- prediction (supervised .bin files) --------------------------------------------------

    def predict(self, text, k=1, threshold=0.0, on_unicode_error="strict"):
        """A supervised model's ``k`` most probable labels of a line (fastText's ``predict``):
        ``(labels tuple, probabilities array)``, or lists of them for a list of lines.
        ``ValueError`` for an unsupervised model. The line's tokens that carry the label prefix
        are labels, not words, as fastText reads them. The GIL is released."""
        _check_unicode_errors(on_unicode_error)
        if not self._model.supervised:
            raise ValueError("predict needs a supervised model; this one holds word vectors")
        k = _test_k(k, len(self._model.labels))
        if isinstance(text, list):
            results = self._model.predict_lines([_check_line(t) for t in text], k,
                                                float(threshold), self._label_prefix)
            return ([labels for labels, _ in results],
                    [probs.astype(np.float32) for _, probs in results])
        labels, probs = self._model.predict_lines([_check_line(text)], k, float(threshold),
                                                  self._label_prefix)[0]
        return tuple(labels), probs

    def test(self, path, k=1, threshold=0.0):
        """fastText's test of a supervised model over a labelled file: ``(N, precision@k,
        recall@k)``, counted as ``TextClassifier.test`` counts (``embedkit classify test`` on
        the file). ``ValueError`` for an unsupervised model or a file that is not labelled
        text."""
        return _test_result(self._evaluate(path, k, threshold))

    def test_label(self, path, k=1, threshold=0.0):
        """Per label: ``{label: {"precision", "recall", "f1score"}}`` over a labelled file."""
        return _label_scores(self._evaluate(path, k, threshold))

    def _evaluate(self, path, k, threshold):
        if not self._model.supervised:
            raise ValueError("test needs a supervised model; this one holds word vectors")
        k = _test_k(k, len(self._model.labels))
        return self._model.evaluate(os.fspath(path), k, float(threshold), self._label_prefix)

    def quantize(self, input=None, qout=False, cutoff=0, retrain=False, epoch=None, lr=None,
                 thread=None, verbose=None, dsub=2, qnorm=False):
        """Quantizes the model in place, as fastText's ``model.quantize`` and
        ``TextClassifier.quantize`` (see there), what ``embedkit quantize`` writes for the
        file. A fastText file stores its epoch but not its lr: ``retrain`` defaults to the
        file's epoch, lr 0.1 (fastText's supervised default) and ``cpu_count() - 1``
        threads, as the command line does. Unlike fastText, a model of word vectors may be
        quantized too (without ``cutoff``). ``ValueError``, the model left as it was, for what
        ``TextClassifier.quantize`` refuses."""
        native = _quantize(self._model, self._label_prefix, input, qout, cutoff, retrain,
                           epoch or self._args["epoch"], lr or 0.1,
                           thread or _DEFAULTS["thread"], 2 if verbose is None else verbose,
                           dsub, qnorm, 1)
        self._model = native
        self._args = native.args
        self._neighbours = None

    # -- files -----------------------------------------------------------------------------

    def save_model(self, path):
        """Writes the model as fastText's ``.bin`` (``.ftz`` when quantized), atomically:
        Debian's ``fasttext``, fastText's ``load_model`` and ``embedkit.load_model`` read
        it."""
        self._model.save(os.fspath(path))


def _check_word(word):
    if not isinstance(word, str):
        raise TypeError(f"expected a str, got {type(word).__name__}")
    return word


def _check_unicode_errors(value):
    if value != "strict":
        raise ValueError(f"on_unicode_error={value!r}: embedkit keeps words as valid UTF-8 "
                         "(only 'strict')")
