"""embedkit.Word2Vec trains: reproducible with one worker, the same from an iterable as from a
file, the same as `embedkit train` for the same options, learns planted structure in each of
its four models, reports progress, calls gensim-style callbacks, and saves/loads."""

import gzip
import os
import pathlib
import pickle
import subprocess

import numpy as np
import pytest

import embedkit
from word2vec_corpus import groups_corpus, neighbour_precision, write_corpus

SMALL = dict(vector_size=16, window=3, min_count=1, epochs=3, workers=1, seed=7)


@pytest.fixture(scope="module")
def sentences():
    return groups_corpus(400, seed=1)


@pytest.fixture(scope="module")
def corpus_file(sentences, tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "c.txt", sentences)


def test_one_worker_same_seed_gives_identical_vectors(corpus_file):
    a = embedkit.Word2Vec(corpus_file=corpus_file, **SMALL)
    b = embedkit.Word2Vec(corpus_file=corpus_file, **SMALL)
    assert a.wv.index_to_key == b.wv.index_to_key
    assert np.array_equal(a.wv.vectors, b.wv.vectors)
    assert a.final_loss == b.final_loss
    c = embedkit.Word2Vec(corpus_file=corpus_file, **{**SMALL, "seed": 8})
    assert not np.array_equal(a.wv.vectors, c.wv.vectors), "the seed must matter"


def test_sentences_equal_corpus_file(sentences, corpus_file, tmp_path):
    from_file = embedkit.Word2Vec(corpus_file=str(corpus_file), **SMALL)
    from_list = embedkit.Word2Vec(sentences, **SMALL)
    # A generator of tuples is read once, like any iterable.
    from_generator = embedkit.Word2Vec((tuple(s) for s in sentences), **SMALL)
    for m in (from_list, from_generator):
        assert m.wv.index_to_key == from_file.wv.index_to_key
        assert np.array_equal(m.wv.vectors, from_file.wv.vectors)
    # A gzip corpus too, and a pathlib.Path.
    gz = tmp_path / "c.txt.gz"
    gz.write_bytes(gzip.compress(pathlib.Path(corpus_file).read_bytes()))
    assert np.array_equal(embedkit.Word2Vec(corpus_file=gz, **SMALL).wv.vectors,
                          from_file.wv.vectors)


def test_the_temporary_corpus_is_removed(sentences, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    embedkit.Word2Vec(sentences, **SMALL)
    with pytest.raises(ValueError):
        embedkit.Word2Vec([["a", "b c"]], **SMALL)
    with pytest.raises(ValueError):  # below min_count: fails in training
        embedkit.Word2Vec([["a", "b"]], **{**SMALL, "min_count": 5})

    def interrupted():  # Ctrl-C while the sentences are being written
        yield from sentences[:100]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        embedkit.Word2Vec(interrupted(), **SMALL)
    assert list(tmp_path.iterdir()) == []


def read_word2vec_text(path):
    with open(path, encoding="utf-8") as f:
        rows, dim = map(int, f.readline().split())
        words, vectors = [], []
        for line in f:
            parts = line.rstrip("\n").split(" ")
            words.append(parts[0])
            vectors.append([float(x) for x in parts[1:] if x])
    assert len(words) == rows
    return words, np.array(vectors, dtype=np.float32).reshape(rows, dim)


def cli():
    # The command line tool of the same build: <build>/python/embedkit -> <build>/tools/embedkit.
    path = pathlib.Path(embedkit.__file__).resolve().parents[2] / "tools" / "embedkit" / "embedkit"
    if not path.exists():
        pytest.skip(f"the embedkit command is not built ({path})")
    return path


@pytest.mark.parametrize("sg,hs", [(1, 0), (0, 1)])
def test_equals_the_command_line_for_the_same_options(corpus_file, tmp_path, sg, hs):
    out = tmp_path / "v.txt"
    subprocess.run([str(cli()), "train", str(corpus_file), str(out), "--model",
                    "skipgram" if sg else "cbow", "--loss", "hs" if hs else "ns", "--dim", "16",
                    "--window", "3", "--min-count", "1", "--epochs", "3", "--threads", "1",
                    "--seed", "7", "--alpha", "0.025", "--sample", "0.001", "--negative", "5"],
                   check=True, capture_output=True)
    words, vectors = read_word2vec_text(out)
    # min_alpha=None: word2vec.c's schedule, which the command line uses.
    m = embedkit.Word2Vec(corpus_file=corpus_file, sg=sg, hs=hs, negative=0 if hs else 5,
                          min_alpha=None, **SMALL)
    assert m.wv.index_to_key == words
    assert np.array_equal(m.wv.vectors, vectors)  # the text holds shortest round-trip floats


@pytest.mark.parametrize("sg", [0, 1])
@pytest.mark.parametrize("hs", [0, 1])
def test_learns_the_planted_topics(corpus_file, sg, hs):
    m = embedkit.Word2Vec(corpus_file=corpus_file, sg=sg, hs=hs, negative=0 if hs else 5,
                          vector_size=24, window=3, min_count=1, epochs=10, workers=2, seed=3)
    assert neighbour_precision(m.wv.index_to_key, m.wv.vectors, 6, 8) >= 0.9


def test_gensims_defaults_and_the_result(corpus_file, sentences):
    m = embedkit.Word2Vec(corpus_file=corpus_file)  # every default: CBOW, 100 dims, 3 workers
    assert (m.vector_size, m.window, m.min_count, m.sg, m.hs, m.negative, m.epochs) == \
        (100, 5, 5, 0, 0, 5, 5)
    assert (m.alpha, m.min_alpha, m.sample, m.seed, m.workers) == (0.025, 0.0001, 1e-3, 1, 3)
    tokens = sum(len(s) for s in sentences)
    assert m.corpus_total_words == tokens
    assert m.words_trained == 5 * tokens  # every word reaches min_count 5 here
    assert m.wv.vectors.shape == (len(m.wv.index_to_key), 100)
    assert m.wv.vectors.dtype == np.float32
    # By count, descending, as gensim sorts.
    counts = {}
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    assert list(m.counts) == [counts[w] for w in m.wv.index_to_key]
    assert list(m.counts) == sorted(m.counts, reverse=True)
    assert m.total_train_time > 0 and m.words_per_second > 0
    assert np.isfinite(m.final_loss) and m.final_loss > 0
    assert repr(m) == f"Word2Vec<vocab={len(counts)}, vector_size=100, alpha=0.025>"


def test_max_final_vocab_keeps_the_most_frequent(corpus_file):
    full = embedkit.Word2Vec(corpus_file=corpus_file, **SMALL)
    capped = embedkit.Word2Vec(corpus_file=corpus_file, max_final_vocab=10, **SMALL)
    assert capped.wv.index_to_key == full.wv.index_to_key[:10]


def test_progress_callable_gets_reports_and_the_final_one(corpus_file):
    reports = []
    embedkit.Word2Vec(corpus_file=corpus_file, progress=reports.append, **SMALL)
    assert reports, "no report"
    last = reports[-1]
    assert isinstance(last, embedkit.word2vec.Word2VecProgress)
    assert last.fraction == 1.0
    assert last.words == 3 * sum(1 for line in open(corpus_file) for _ in line.split())
    assert last.loss > 0 and last.words_per_second > 0 and last.eta_seconds == 0
    assert last.alpha == pytest.approx(0.0001)  # gensim's min_alpha at the end
    assert "fraction=1.0000" in repr(last)


def test_progress_true_draws_on_stderr(corpus_file, capfd):
    embedkit.Word2Vec(corpus_file=corpus_file, progress=True, **SMALL)
    err = capfd.readouterr().err
    assert "100.0%" in err and "words/s" in err and "loss" in err


def test_an_exception_from_the_progress_callable_stops_training(corpus_file):
    def fail(p):
        raise ArithmeticError("stop here")

    with pytest.raises(ArithmeticError, match="stop here"):
        embedkit.Word2Vec(corpus_file=corpus_file, progress=fail, **SMALL)


def test_gensim_style_callbacks_are_called_in_order(corpus_file):
    calls = []

    class Recorder:
        def on_train_begin(self, model):
            calls.append(("train_begin", model.wv is None))

        def on_epoch_begin(self, model):
            calls.append("epoch_begin")

        def on_epoch_end(self, model):
            calls.append("epoch_end")

        def on_train_end(self, model):
            calls.append(("train_end", model.wv is None))

    embedkit.Word2Vec(corpus_file=corpus_file, callbacks=[Recorder()], **SMALL)
    assert calls == [("train_begin", True)] + ["epoch_begin", "epoch_end"] * 3 + \
        [("train_end", False)]


def test_gensims_callback_class_is_accepted(corpus_file, gensim):
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochCounter(CallbackAny2Vec):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, model):
            self.epochs += 1

    counter = EpochCounter()
    embedkit.Word2Vec(corpus_file=corpus_file, callbacks=[counter], **SMALL)
    assert counter.epochs == 3


def test_save_and_load(corpus_file, tmp_path):
    m = embedkit.Word2Vec(corpus_file=corpus_file, comment="test", **SMALL)
    path = tmp_path / "model.w2v"
    m.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.w2v"]  # no .npz appended, no temporary left
    back = embedkit.Word2Vec.load(path)
    assert back.wv.index_to_key == m.wv.index_to_key
    assert np.array_equal(back.wv.vectors, m.wv.vectors)
    assert np.array_equal(back.counts, m.counts)
    word = m.wv.index_to_key[3]
    assert back.wv.get_vecattr(word, "count") == m.wv.get_vecattr(word, "count") == m.counts[3]
    for name in ("vector_size", "window", "sg", "hs", "negative", "epochs", "seed", "alpha",
                 "min_alpha", "comment", "final_loss", "words_per_second", "total_train_time"):
        assert getattr(back, name) == getattr(m, name), name


def test_pickle_round_trip(corpus_file):
    m = embedkit.Word2Vec(corpus_file=corpus_file, **SMALL)
    assert m.progress is not None  # the last report, a compiled object pickle cannot take
    back = pickle.loads(pickle.dumps(m))
    assert back.wv.index_to_key == m.wv.index_to_key
    assert np.array_equal(back.wv.vectors, m.wv.vectors)
    assert back.final_loss == m.final_loss and back.progress is None


def test_load_refuses_what_save_did_not_write(tmp_path):
    with pytest.raises(FileNotFoundError):
        embedkit.Word2Vec.load(tmp_path / "missing")
    for name, data in [("text", b"not a model\n"), ("empty", b"")]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match="not a model saved by"):
            embedkit.Word2Vec.load(tmp_path / name)
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ValueError, match="not a model saved by"):
        embedkit.Word2Vec.load(tmp_path / "array.npy")
    np.savez(tmp_path / "other.npz", vectors=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not a model saved by"):
        embedkit.Word2Vec.load(tmp_path / "other.npz")
    truncated = tmp_path / "truncated"
    with open(truncated, "wb") as f:
        f.write(b"PK\x03\x04" + b"\0" * 20)
    with pytest.raises(ValueError, match="not a model saved by"):
        embedkit.Word2Vec.load(truncated)


def test_help_is_useful():
    doc = embedkit.Word2Vec.__doc__
    for word in ("sentences", "corpus_file", "min_alpha", "workers", "progress", "callbacks",
                 "KeyboardInterrupt", "ValueError"):
        assert word in doc
    assert embedkit.Word2Vec.save.__doc__ and embedkit.Word2Vec.load.__doc__
