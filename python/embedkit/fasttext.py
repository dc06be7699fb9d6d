"""fastText's Python API for embedkit's text classifier.

``train_supervised`` takes fastText 0.9.2's argument names and defaults and returns a model with
fastText's methods and return types (``predict``, ``test``, ``get_word_vector``,
``save_model``...); ``load_model`` reads a model back. A fastText user changes the import::

    import embedkit as fasttext
    model = fasttext.train_supervised(input="train.txt", epoch=25, wordNgrams=2)
    model.predict("a line of text", k=3)

The model is embedkit's (``embedkit classify`` on the command line), saved as one safetensors
file: it is not fastText's ``.bin`` format, and neither program reads the other's files.

An argument embedkit cannot honour (the ``ova`` loss, a model-size target, ...) raises ``ValueError``
saying so: it is never silently ignored.
``ws`` and ``t`` are accepted because fastText itself does not use them in supervised training.
"""

import multiprocessing
import os
import sys

import numpy as np

from embedkit import _embedkit

__all__ = ["train_supervised", "load_model", "TextClassifier"]

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

# Arguments embedkit cannot honour at other values than these, and why.
_UNSUPPORTED = {
    "lrUpdateRate": (100, "embedkit recomputes the learning rate at every line, so the "
                          "update rate cannot be set"),
    "autotuneModelSize": ("", "a model-size target needs a quantizer (fastText's quantize), "
                              "which embedkit's classifier does not have"),
}

# fastText's names of the options autotune searches, with embedkit's: one given by the caller
# is not searched (fastText's rule).
_SEARCHED = {"epoch": "epochs", "lr": "lr", "dim": "dim", "wordNgrams": "word_ngrams",
             "bucket": "buckets", "minn": "minn", "maxn": "maxn", "loss": "loss"}

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
    (``"f1:__label__x"``, ``"precisionAtRecall:30"``, ...), ``autotunePredictions=1`` and
    ``autotuneDuration=300`` (seconds). Positional arguments follow that order, as fastText's
    do.

    With ``thread=1`` the same file, arguments and seed give the same model bit for bit. The GIL
    is released while training; Ctrl-C raises ``KeyboardInterrupt`` within a tenth of a second.

    Raises ``FileNotFoundError`` (an ``OSError``) when ``input`` does not exist, ``ValueError``
    for a file that is not labelled text (a line without a label or without words, no labelled
    line), for bad values (``maxn`` > 0 needs ``1 <= minn <= maxn``), and for arguments embedkit
    cannot honour (``minCountLabel`` > 1, ``loss="ova"``, another ``lrUpdateRate``,
    ``autotuneModelSize``, which needs a quantizer), for a validation label that no training
    line carries; ``TypeError`` for an unknown argument.
    """
    names = list(_DEFAULTS)
    if len(args) > len(names):
        raise TypeError(f"train_supervised takes at most {len(names)} positional arguments")
    params = dict(_DEFAULTS)
    for name, value in zip(names, args):
        params[name] = value
    for name, value in kwargs.items():
        if name not in _DEFAULTS:
            raise TypeError(f"train_supervised got an unexpected argument '{name}'")
        if name in names[:len(args)]:
            raise TypeError(f"train_supervised got multiple values for argument '{name}'")
        params[name] = value
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
    given = set(kwargs) | set(names[:len(args)])
    # fastText needs no buckets when there are no word n-grams (and no subwords).
    word_ngrams = _int("wordNgrams", params["wordNgrams"], 1)
    model = _embedkit.TextClassifier.train(
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
    )
    return TextClassifier(model)


def load_model(path):
    """Loads a model saved by ``TextClassifier.save_model`` (fastText's ``load_model``).

    Raises ``FileNotFoundError`` for a missing file and ``OSError`` naming the problem for a
    file that is not an embedkit classifier (fastText's ``.bin`` files are not read).
    """
    return TextClassifier(_embedkit.TextClassifier.load(os.fspath(path)))


class TextClassifier:
    """A trained text classifier with fastText's Python methods.

    Made by ``train_supervised`` or ``load_model``. Labels are shown with their prefix
    (``"__label__pos"``), as fastText shows them. The model does not change after training, so
    its methods may be called from several threads (``predict`` releases the GIL).
    """

    def __init__(self, model):
        if not isinstance(model, _embedkit.TextClassifier):
            raise TypeError("TextClassifier wraps a trained model: use train_supervised or "
                            "load_model")
        self._model = model
        self._word_ids = None  # word -> row, built on the first get_word_id

    def __repr__(self):
        return (f"<embedkit.fasttext.TextClassifier: {len(self.words)} words, "
                f"{len(self.labels)} labels, dim {self.get_dimension()}, "
                f"loss {self._model.loss}>")

    # -- prediction ------------------------------------------------------------------------

    def predict(self, text, k=1, threshold=0.0):
        """The ``k`` most probable labels of a line and their probabilities, fastText's way.

        For one string: a tuple ``(labels, probabilities)``, labels a tuple of str and
        probabilities a float64 NumPy array, most probable first. For a list of strings: a
        tuple ``(list of label lists, list of float32 arrays)``, one entry per string. Labels
        below ``threshold`` are left out. ``k=-1`` asks for every label. Words are split on
        whitespace; a line may not hold '\\n' (ValueError); tokens with the label prefix are
        not words.
        """
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
        r = self._evaluate(path, k, threshold)
        return r["examples"], r["precision"], r["recall"]

    def test_label(self, path, k=1, threshold=0.0):
        """Per label: ``{label: {"precision", "recall", "f1score"}}`` over a labelled file."""
        out = {}
        for label, (gold, predicted, correct) in self._evaluate(path, k,
                                                                 threshold)["per_label"].items():
            p = correct / predicted if predicted else 0.0
            r = correct / gold if gold else 0.0
            out[label] = {"precision": p, "recall": r,
                          "f1score": 2 * p * r / (p + r) if p + r > 0 else 0.0}
        return out

    def _evaluate(self, path, k, threshold):
        k = int(k)
        if k == -1:
            k = len(self.labels)
        if k < 1:
            raise ValueError("k needs to be 1 or higher!")
        return self._model.evaluate(os.fspath(path), k, float(threshold))

    # -- vectors ---------------------------------------------------------------------------

    def get_word_vector(self, word):
        """The word's vector (float32 array of ``dim``), as fastText's: the mean of its input row
        and, with subwords (``maxn`` > 0), its character n-gram rows, so that a word outside the
        vocabulary has one; zeros for an unknown word without subwords."""
        return self._model.word_vector(word)

    def get_sentence_vector(self, text):
        """The line's hidden vector: the mean of the rows it looks up (words, "</s>",
        n-gram buckets), what the classifier scores."""
        return self._model.sentence_vector(_check_line(text))

    def get_input_matrix(self):
        """The input table [words (+ buckets), dim], a read-only view (no copy)."""
        a = self._model.input_matrix
        a.flags.writeable = False
        return a

    def get_output_matrix(self):
        """The output table [labels (hs: inner nodes), dim], a read-only view (no copy)."""
        a = self._model.output_matrix
        a.flags.writeable = False
        return a

    # -- dictionary ------------------------------------------------------------------------

    def get_words(self, include_freq=False):
        """The words of the model (most frequent first, "</s>" among them); with
        ``include_freq`` a tuple ``(words, counts array)``."""
        words = self._model.words
        return (words, np.array(self._model.word_counts)) if include_freq else words

    def get_labels(self, include_freq=False):
        """The labels, prefixed (most frequent first); with ``include_freq`` a tuple
        ``(labels, counts array)``."""
        labels = self._model.labels
        return (labels, np.array(self._model.label_counts)) if include_freq else labels

    def get_word_id(self, word):
        """The word's row in the input matrix, or -1 when the model does not hold it."""
        if self._word_ids is None:
            self._word_ids = {w: i for i, w in enumerate(self._model.words)}
        return self._word_ids.get(word, -1)

    def get_dimension(self):
        """The dimension of the vectors."""
        return self._model.dim

    def is_quantized(self):
        """Always False: embedkit does not quantize classifiers."""
        return False

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
        existing file as it was. ``load_model`` reads it back."""
        self._model.save(os.fspath(path))
