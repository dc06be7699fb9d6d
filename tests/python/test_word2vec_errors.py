"""embedkit.Word2Vec refuses bad input with a clear Python exception before training: empty or
missing corpora, bad tokens, bad options, and gensim arguments embedkit cannot honour."""

import numpy as np
import pytest

import embedkit
from word2vec_corpus import groups_corpus, write_corpus

SMALL = dict(vector_size=8, window=2, min_count=1, epochs=1, workers=1)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "c.txt", groups_corpus(50))


def test_empty_corpora(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n\t\n")
    for kwargs in ({"corpus_file": empty}, {"corpus_file": blank}, {"sentences": []},
                   {"sentences": [[], []]}):
        with pytest.raises(ValueError):
            embedkit.Word2Vec(**kwargs, **SMALL)


def test_no_word_reaches_min_count():
    with pytest.raises(ValueError, match="min_count"):
        embedkit.Word2Vec([["a", "b"], ["c"]], **{**SMALL, "min_count": 2})


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        embedkit.Word2Vec(corpus_file=tmp_path / "missing.txt", **SMALL)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"a b\0c\n")
    with pytest.raises(OSError):
        embedkit.Word2Vec(corpus_file=binary, **SMALL)
    broken = tmp_path / "broken.txt.gz"
    import gzip
    broken.write_bytes(gzip.compress(b"a b c\n" * 1000)[:-20])
    with pytest.raises(OSError):
        embedkit.Word2Vec(corpus_file=broken, **SMALL)
    with pytest.raises(OSError):
        embedkit.Word2Vec(corpus_file=tmp_path, **SMALL)  # a folder


def test_corpus_arguments():
    with pytest.raises(TypeError, match="sentences or corpus_file"):
        embedkit.Word2Vec(**SMALL)
    with pytest.raises(TypeError, match="not both"):
        embedkit.Word2Vec([["a"]], corpus_file="c.txt", **SMALL)
    with pytest.raises(TypeError, match="got a string"):
        embedkit.Word2Vec("a b c", **SMALL)
    with pytest.raises(TypeError, match="sentence 1 is a string"):
        embedkit.Word2Vec([["a"], "b c"], **SMALL)
    with pytest.raises(TypeError, match="tokens must be str"):
        embedkit.Word2Vec([["a", 3]], **SMALL)


@pytest.mark.parametrize("token", ["two words", "tab\there", "new\nline", "cr\r", "", "nul\0",
                                   "vt\v", "ff\f"])
def test_tokens_embedkits_corpus_text_cannot_hold(token):
    with pytest.raises(ValueError, match=r"sentence 1: token .* is empty or holds whitespace"):
        embedkit.Word2Vec([["fine"], ["ok", token]], **SMALL)


def test_non_ascii_tokens_are_fine():
    m = embedkit.Word2Vec([["café", "naïve", "日本"]] * 3, **SMALL)
    assert sorted(m.wv.index_to_key) == sorted(["café", "naïve", "日本"])


@pytest.mark.parametrize("name,value,error", [
    ("vector_size", 0, ValueError), ("vector_size", 2.5, TypeError),
    ("window", 0, ValueError), ("min_count", -1, ValueError), ("epochs", 0, ValueError),
    ("workers", 0, ValueError), ("workers", 2000, ValueError), ("negative", -1, ValueError), ("seed", -1, ValueError),
    ("seed", 2**64, ValueError), ("alpha", 0, ValueError), ("alpha", float("nan"), ValueError),
    ("alpha", "0.1", TypeError), ("min_alpha", -0.1, ValueError), ("sample", -1, ValueError),
    ("sample", float("inf"), ValueError), ("sg", 2, ValueError), ("hs", -1, ValueError),
    ("ns_exponent", float("nan"), ValueError), ("max_final_vocab", 0, ValueError),
    ("progress", "yes", TypeError),
])
def test_bad_options(corpus_file, name, value, error):
    with pytest.raises(error, match=name):
        embedkit.Word2Vec(corpus_file=corpus_file, **{**SMALL, name: value})


@pytest.mark.parametrize("kwargs,match", [
    ({"hs": 1}, "hs=1 is not supported.*negative=0"),  # hs with the default negative=5
    ({"hs": 0, "negative": 0}, "nothing to train"),
    ({"max_vocab_size": 1000}, "max_vocab_size=1000 is not supported.*max_final_vocab"),
    ({"cbow_mean": 0}, "cbow_mean=0 is not supported"),
    ({"hashfxn": lambda s: 0}, "hashfxn=.* is not supported"),
    ({"null_word": 1}, "null_word=1 is not supported"),
    ({"trim_rule": lambda w, c, m: 0}, "trim_rule=.* is not supported"),
    ({"sorted_vocab": 0}, "sorted_vocab=0 is not supported"),
    ({"batch_words": 500}, "batch_words=500 is not supported"),
    ({"shrink_windows": False}, "shrink_windows=False is not supported"),
])
def test_gensim_arguments_embedkit_cannot_honour(corpus_file, kwargs, match):
    with pytest.raises(ValueError, match=match):
        embedkit.Word2Vec(corpus_file=corpus_file, **{**SMALL, **kwargs})


def test_gensim_arguments_it_honours(corpus_file):
    # ns_exponent, cbow_mean=0 with skip-gram (no CBOW, nothing to sum), compute_loss, comment,
    # min_count=0 (as 1) and numpy integers are accepted.
    m = embedkit.Word2Vec(corpus_file=corpus_file, ns_exponent=0.5, sg=1, cbow_mean=0,
                          compute_loss=True, comment="c", min_count=np.int64(0),
                          vector_size=np.int32(8), window=2, epochs=1, workers=1)
    assert m.wv.vectors.shape[1] == 8 and m.comment == "c" and m.min_count == 1


def test_batch_hooks_are_refused(corpus_file):
    class Batches:
        def on_batch_end(self, model):
            pass

    with pytest.raises(ValueError, match="on_batch_end is never called"):
        embedkit.Word2Vec(corpus_file=corpus_file, callbacks=[Batches()], **SMALL)


def test_diverging_training_is_an_error(corpus_file):
    with pytest.raises(RuntimeError, match="training diverged"):
        embedkit.Word2Vec(corpus_file=corpus_file, alpha=1e30,
                          **{**SMALL, "epochs": 5, "sg": 1})
