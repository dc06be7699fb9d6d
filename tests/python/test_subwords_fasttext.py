"""embedkit.train_unsupervised / load_model against fastText's Python module (the oracle):
the same vocabulary, the same n-gram buckets, the same vectors (OOV words included) from the
same model file either way, the same neighbours, the same quality level on a corpus with planted
topics, and bad input refused with clear errors."""

import os
import shutil
import subprocess

import numpy as np
import pytest

import embedkit
from subword_corpus import (PROBE_WORDS, STEMS, subword_corpus, topic_precision, unseen_words,
                            write_corpus)

SMALL = dict(dim=16, minCount=2, minn=2, maxn=5, bucket=5000, epoch=3, thread=1, verbose=0)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    return str(write_corpus(tmp_path_factory.mktemp("corpus") / "c.txt", subword_corpus(800)))


@pytest.fixture(scope="module")
def theirs_bin(corpus_file, tmp_path_factory):
    """A model trained by fastText itself, saved as its .bin."""
    import fasttext  # the oracle; the tests that use this fixture ask for it first

    model = fasttext.train_unsupervised(corpus_file, **SMALL)
    path = str(tmp_path_factory.mktemp("theirs") / "theirs.bin")
    model.save_model(path)
    return path


@pytest.fixture(scope="module")
def ours(corpus_file):
    return embedkit.train_unsupervised(corpus_file, **SMALL)


def probes(model):
    unseen = [w for words in unseen_words().values() for w in words]
    return model.get_words()[:20] + unseen + PROBE_WORDS


def test_same_vocabulary_and_counts(corpus_file, fasttext, ours):
    theirs = fasttext.train_unsupervised(corpus_file, **SMALL)
    our_words, our_counts = ours.get_words(include_freq=True)
    their_words, their_counts = theirs.get_words(include_freq=True)
    # fastText also counts each line's end as the word "</s>"; embedkit's dictionary does not.
    theirs_counted = dict(zip(their_words, their_counts.tolist()))
    assert theirs_counted.pop("</s>") == 800
    assert dict(zip(our_words, our_counts.tolist())) == theirs_counted
    assert ours.get_dimension() == theirs.get_dimension() == 16


def test_subword_buckets_are_fasttexts(fasttext, theirs_bin):
    # One .bin, read by both: every word's n-grams, their texts and their rows.
    theirs = fasttext.load_model(theirs_bin)
    ours = embedkit.load_model(theirs_bin)
    assert isinstance(ours, embedkit.fasttext.FastTextModel)
    assert ours.get_words() == theirs.get_words()
    checked = 0
    for word in probes(ours):
        our_texts, our_rows = ours.get_subwords(word)
        their_texts, their_rows = theirs.get_subwords(word)
        assert our_texts == list(their_texts), word
        assert our_rows.tolist() == their_rows.tolist(), word
        assert ours.get_word_id(word) == theirs.get_word_id(word), word
        for text in our_texts[1:] if word in ours else our_texts:
            assert ours.get_subword_id(text) == theirs.get_subword_id(text), text
        checked += len(our_rows)
    assert checked > 400


def test_vectors_of_fasttexts_file_equal_fasttexts(fasttext, theirs_bin):
    theirs = fasttext.load_model(theirs_bin)
    ours = embedkit.load_model(theirs_bin)
    np.testing.assert_array_equal(ours.get_input_matrix(), theirs.get_input_matrix())
    for word in probes(ours):
        np.testing.assert_allclose(ours.get_word_vector(word), theirs.get_word_vector(word),
                                   rtol=0, atol=1e-6, err_msg=word)
        np.testing.assert_allclose(ours[word], theirs[word], rtol=0, atol=1e-6, err_msg=word)
    line = "korati vamelu zzqq the"
    np.testing.assert_allclose(ours.get_sentence_vector(line), theirs.get_sentence_vector(line),
                               rtol=0, atol=1e-6)


def test_neighbours_and_analogies_equal_fasttexts(fasttext, theirs_bin):
    theirs = fasttext.load_model(theirs_bin)
    ours = embedkit.load_model(theirs_bin)
    for word in ["korati", "vamadro", "zzqq"]:
        mine = ours.get_nearest_neighbors(word, k=5)
        other = theirs.get_nearest_neighbors(word, k=5)
        assert [w for _, w in mine] == [w for _, w in other], word
        np.testing.assert_allclose([s for s, _ in mine], [s for s, _ in other], atol=1e-5)
    mine = ours.get_analogies("korati", "korelu", "vamelu", k=5)
    other = theirs.get_analogies("korati", "korelu", "vamelu", k=5)
    assert [w for _, w in mine] == [w for _, w in other]
    np.testing.assert_allclose([s for s, _ in mine], [s for s, _ in other], atol=1e-5)


def test_our_bin_is_read_by_fasttext_alike(fasttext, ours, tmp_path):
    path = str(tmp_path / "ours.bin")
    ours.save_model(path)
    theirs = fasttext.load_model(path)
    assert theirs.get_words() == ours.get_words()
    assert theirs.get_dimension() == 16
    np.testing.assert_array_equal(theirs.get_input_matrix(), ours.get_input_matrix())
    for word in probes(ours):
        np.testing.assert_allclose(theirs.get_word_vector(word), ours.get_word_vector(word),
                                   rtol=0, atol=1e-6, err_msg=word)
    # and back: embedkit reads its own .bin to the same model
    again = embedkit.load_model(path)
    np.testing.assert_array_equal(again.get_input_matrix(), ours.get_input_matrix())


def test_debians_fasttext_command_prints_our_vectors(ours, tmp_path):
    # `fasttext print-word-vectors` on our .bin, OOV words included (it prints 5 significant
    # digits).
    command = shutil.which("fasttext")
    if command is None:
        if os.environ.get("EMBEDKIT_REQUIRE_ORACLES") == "1":
            pytest.fail("the fasttext command is required (EMBEDKIT_REQUIRE_ORACLES=1)")
        pytest.skip("the fasttext command is not installed")
    path = str(tmp_path / "ours.bin")
    ours.save_model(path)
    words = probes(ours)
    out = subprocess.run([command, "print-word-vectors", path], input="\n".join(words) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == len(words)
    for word, line in zip(words, out):
        printed, *values = line.split(" ")
        assert printed == word
        np.testing.assert_allclose(np.array(values[:16], dtype=np.float32),
                                   ours.get_word_vector(word), rtol=1e-4, atol=1e-5,
                                   err_msg=word)


def test_oov_word_vector_is_the_mean_of_its_ngram_rows(ours):
    table = ours.get_input_matrix()
    assert table.shape == (len(ours.get_words()) + 5000, 16)
    texts, rows = ours.get_subwords("korzzz")
    assert "korzzz" not in ours and texts[0] == "<k"
    np.testing.assert_allclose(ours.get_word_vector("korzzz"), table[rows].mean(0), atol=1e-6)
    texts, rows = ours.get_subwords("korati")
    assert texts[0] == "korati" and rows[0] == ours.get_word_id("korati")
    np.testing.assert_allclose(ours.get_word_vector("korati"), table[rows].mean(0), atol=1e-6)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_quality_level_with_fasttext(corpus_file, fasttext, model):
    # Unseen words (a topic's stem with a new ending) must land among their topic's words.
    # (At 5 epochs fastText places only about half of them: 0.53 skip-gram, 0.45 CBOW, against
    # embedkit's 0.87 and 0.75; at 10 both are near 1, well above chance, 1/6.)
    args = dict(SMALL, epoch=10, minn=3, model=model)

    def precision(model):
        return topic_precision(model.get_word_vector,
                               [w for w in model.get_words() if w != "</s>"])

    # Debian's fastText module takes no seed: two runs of its own (one thread: the same run).
    p_ours = np.mean([precision(embedkit.train_unsupervised(corpus_file, seed=s, **args))
                      for s in (1, 2)])
    p_theirs = precision(fasttext.train_unsupervised(corpus_file, **args))
    assert p_theirs >= 0.8, f"the oracle itself did not place the unseen words ({p_theirs})"
    assert p_ours >= p_theirs - 0.1, f"embedkit {p_ours}, fastText {p_theirs}"


def test_without_ngrams_an_unseen_word_is_zeros(corpus_file, fasttext, tmp_path):
    ours = embedkit.train_unsupervised(corpus_file, **dict(SMALL, maxn=0))
    assert ours.get_input_matrix().shape[0] == len(ours.get_words())
    assert not ours.get_word_vector("zzqq").any()
    assert ours.get_subwords("korati")[0] == ["korati"]
    path = str(tmp_path / "plain.bin")
    ours.save_model(path)
    theirs = fasttext.load_model(path)
    np.testing.assert_array_equal(theirs.get_word_vector("zzqq"), ours.get_word_vector("zzqq"))
    np.testing.assert_allclose(theirs.get_word_vector("korati"), ours.get_word_vector("korati"),
                               atol=1e-6)


def test_single_thread_is_reproducible(corpus_file):
    a = embedkit.train_unsupervised(corpus_file, seed=3, **SMALL)
    b = embedkit.train_unsupervised(corpus_file, seed=3, **SMALL)
    np.testing.assert_array_equal(a.get_input_matrix(), b.get_input_matrix())


def test_positional_arguments_in_fasttexts_order(corpus_file):
    m = embedkit.train_unsupervised(corpus_file, "cbow", 0.05, 8, thread=1, verbose=0,
                                    minCount=2, bucket=100)
    assert m.get_dimension() == 8
    assert "cbow" in repr(m)


def test_progress_lines_on_stderr(corpus_file, capfd):
    embedkit.train_unsupervised(corpus_file, **dict(SMALL, verbose=2))
    err = capfd.readouterr().err
    assert "Progress: 100.0%" in err and "words/sec/thread" in err


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(minn=5, maxn=3), ValueError, "1 <= minn <= maxn"),
    (dict(minn=0, maxn=3), ValueError, "1 <= minn <= maxn"),
    (dict(bucket=0), ValueError, "bucket=0 with maxn > 0"),
    (dict(loss="softmax"), ValueError, "softmax"),
    (dict(loss="ova"), ValueError, "ova"),
    (dict(model="supervised"), ValueError, "skipgram"),
    (dict(lrUpdateRate=50), ValueError, "lrUpdateRate"),
    (dict(pretrainedVectors="x.vec"), ValueError, "pretrainedVectors"),
    (dict(autotuneValidationFile="v.txt"), ValueError, "supervised models only"),
    (dict(dim=0), ValueError, "dim must be >= 1"),
    (dict(dim=1.5), TypeError, "dim must be an int"),
    (dict(epoch="5"), TypeError, "epoch must be an int"),
    (dict(lr=0), ValueError, "lr must be > 0"),
    (dict(t=-1), ValueError, "t must be > 0"),
    (dict(minCount=0), ValueError, "minCount must be >= 1"),
    (dict(nonsense=1), TypeError, "unexpected argument 'nonsense'"),
])
def test_bad_arguments(corpus_file, kwargs, error, match):
    with pytest.raises(error, match=match):
        embedkit.train_unsupervised(corpus_file, **dict(SMALL, **kwargs))


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError):
        embedkit.train_unsupervised(str(tmp_path / "missing.txt"), **SMALL)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        embedkit.train_unsupervised(str(empty), **SMALL)
    rare = tmp_path / "rare.txt"
    rare.write_text("one two three\n")
    with pytest.raises(ValueError, match="min_count|minCount"):
        embedkit.train_unsupervised(str(rare), **SMALL)
    with pytest.raises(TypeError, match="needs input"):
        embedkit.train_unsupervised(**SMALL)
    with pytest.raises(TypeError, match="multiple values"):
        embedkit.train_unsupervised(str(empty), input=str(empty))


def test_bad_model_files_and_queries(ours, tmp_path):
    truncated = tmp_path / "truncated.bin"
    ours.save_model(str(tmp_path / "whole.bin"))
    data = (tmp_path / "whole.bin").read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(OSError, match="truncated.bin"):
        embedkit.load_model(str(truncated))
    with pytest.raises(FileNotFoundError):
        embedkit.load_model(str(tmp_path / "missing.bin"))
    with pytest.raises(TypeError, match="expected a str"):
        ours.get_word_vector(3)
    with pytest.raises(ValueError, match="supervised"):
        ours.predict("korati vamelu")
    with pytest.raises(ValueError, match="strict"):
        ours.get_nearest_neighbors("korati", on_unicode_error="replace")
    with pytest.raises(ValueError, match="k must be >= 1"):
        ours.get_nearest_neighbors("korati", k=0)
    # a failed save leaves no file behind
    with pytest.raises(OSError):
        ours.save_model(str(tmp_path / "no-such-dir" / "m.bin"))
    assert not os.path.exists(tmp_path / "no-such-dir")


def test_supervised_fasttext_bin_predicts_as_fasttext(fasttext, tmp_path):
    lines = []
    for i in range(200):
        stem = STEMS[i % 2]
        lines.append(f"__label__{stem} {stem}ati {stem}elu the {stem}ond")
    train = tmp_path / "train.txt"
    train.write_text("\n".join(lines) + "\n")
    theirs = fasttext.train_supervised(str(train), dim=8, epoch=5, thread=1, verbose=0,
                                       wordNgrams=2, bucket=2000)
    path = str(tmp_path / "sup.bin")
    theirs.save_model(path)
    ours = embedkit.load_model(path)
    for text in ["korati the", "vamelu vamond", "zzq"]:
        our_labels, our_probs = ours.predict(text, k=2)
        their_labels, their_probs = theirs.predict(text, k=2)
        assert our_labels == their_labels, text
        np.testing.assert_allclose(our_probs, their_probs, rtol=1e-5, atol=1e-6)
    assert ours.get_labels() == theirs.get_labels()
    assert not ours.is_quantized()

    # quantized (.ftz, the buckets pruned): the same labels, probabilities and word vectors
    theirs.quantize(input=str(train), qnorm=True, retrain=False, cutoff=400)
    ftz = str(tmp_path / "sup.ftz")
    theirs.save_model(ftz)
    ours = embedkit.load_model(ftz)
    assert ours.is_quantized()
    for text in ["korati the", "vamelu vamond", "zzq"]:
        our_labels, our_probs = ours.predict(text, k=2)
        their_labels, their_probs = theirs.predict(text, k=2)
        assert our_labels == their_labels, text
        np.testing.assert_allclose(our_probs, their_probs, rtol=1e-5, atol=1e-6)
    for word in ["korati", "the", "zzq"]:
        np.testing.assert_allclose(ours.get_word_vector(word), theirs.get_word_vector(word),
                                   atol=1e-6)
    with pytest.raises(ValueError, match="quantized"):
        ours.get_input_matrix()


def test_defaults_are_fasttexts(fasttext):
    from embedkit.fasttext import _UNSUPERVISED_DEFAULTS

    theirs = dict(fasttext.FastText.unsupervised_default, input=None)
    # cpu_count() - 1 threads, at least one (fastText's is 0 on a one-CPU machine)
    theirs["thread"] = max(1, theirs["thread"])
    assert _UNSUPERVISED_DEFAULTS == theirs
    # fastText's positional order: input, then its documented argument order
    assert list(_UNSUPERVISED_DEFAULTS)[:4] == ["input", "model", "lr", "dim"]
    assert embedkit.train_unsupervised is embedkit.fasttext.train_unsupervised
