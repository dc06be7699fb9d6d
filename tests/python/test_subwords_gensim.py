"""embedkit.FastText against gensim's FastText (the oracle): the same vocabulary, the same
vectors for seen and unseen words from the same n-gram table (gensim reads our model through
load_facebook_model), gensim's rules for `in`, KeyError and bucket 0, the same quality level
on a corpus with planted topics, files, and bad input refused with clear errors."""

import pickle

import numpy as np
import pytest

import embedkit
from subword_corpus import (PROBE_WORDS, subword_corpus, topic_precision, unseen_words,
                            write_corpus)

SMALL = dict(vector_size=16, min_count=2, min_n=2, max_n=5, bucket=5000, epochs=3, workers=1)


@pytest.fixture(scope="module")
def sentences():
    return subword_corpus(800)


@pytest.fixture(scope="module")
def corpus_file(sentences, tmp_path_factory):
    return str(write_corpus(tmp_path_factory.mktemp("corpus") / "c.txt", sentences))


@pytest.fixture(scope="module")
def ours(corpus_file):
    return embedkit.FastText(corpus_file=corpus_file, sg=1, **SMALL)


@pytest.fixture(scope="module")
def theirs_of_ours(ours, tmp_path_factory):
    """gensim's model over our n-gram table: our .bin, read by gensim."""
    from gensim.models.fasttext import load_facebook_model  # the tests ask for gensim first

    path = str(tmp_path_factory.mktemp("bin") / "ours.bin")
    ours.save_facebook_model(path)
    return load_facebook_model(path)


def probes(wv):
    unseen = [w for words in unseen_words().values() for w in words]
    return wv.index_to_key[:20] + unseen + [w for w in PROBE_WORDS if w != "</s>"]


def test_same_vocabulary_and_counts(corpus_file, gensim, ours):
    theirs = gensim.models.FastText(corpus_file=corpus_file, sg=1, **SMALL)
    assert set(ours.wv.index_to_key) == set(theirs.wv.index_to_key)
    for word, count in zip(ours.wv.index_to_key, ours.counts):
        assert theirs.wv.get_vecattr(word, "count") == count, word
    assert ours.corpus_total_words == theirs.corpus_total_words
    assert ours.wv.vectors_ngrams.shape == theirs.wv.vectors_ngrams.shape == (5000, 16)


def test_vectors_from_the_same_table_equal_gensims(gensim, ours, theirs_of_ours):
    theirs = theirs_of_ours.wv
    assert theirs.index_to_key == ours.wv.index_to_key
    np.testing.assert_array_equal(theirs.vectors_ngrams, ours.wv.vectors_ngrams)
    # seen words: the mean of the word's row and its n-gram rows, as gensim adjusts them
    np.testing.assert_allclose(theirs.vectors, ours.wv.vectors, rtol=0, atol=1e-6)
    for word in probes(ours.wv):
        np.testing.assert_allclose(ours.wv[word], theirs[word], rtol=0, atol=1e-6,
                                   err_msg=word)
        np.testing.assert_allclose(ours.wv.get_vector(word, norm=True),
                                   theirs.get_vector(word, norm=True), rtol=0, atol=1e-6,
                                   err_msg=word)
    np.testing.assert_allclose(ours.wv[["korati", "korzzz"]], theirs[["korati", "korzzz"]],
                               atol=1e-6)


def test_ngram_buckets_are_gensims(gensim, ours):
    from gensim.models.fasttext import ft_ngram_hashes

    nwords = len(ours.wv.index_to_key)
    model = ours.wv._model
    checked = 0
    for word in probes(ours.wv):
        rows = model.subword_rows(word).tolist()
        if word in ours.wv.key_to_index:
            assert rows[0] == ours.wv.key_to_index[word]
            rows = rows[1:]
        theirs = ft_ngram_hashes(word, 2, 5, 5000)
        assert [r - nwords for r in rows] == list(theirs), word
        checked += len(rows)
    assert checked > 400


def test_queries_with_unseen_words_equal_gensims(gensim, ours, theirs_of_ours):
    theirs = theirs_of_ours.wv
    for query in ["korati", "koradro", "zzqq"]:
        mine = ours.wv.most_similar(query, topn=5)
        other = theirs.most_similar(query, topn=5)
        assert [w for w, _ in mine] == [w for w, _ in other], query
        np.testing.assert_allclose([s for _, s in mine], [s for _, s in other], atol=1e-5)
    mine = ours.wv.most_similar(positive=["koradro", "vamelu"], negative=["korelu"], topn=5)
    other = theirs.most_similar(positive=["koradro", "vamelu"], negative=["korelu"], topn=5)
    assert [w for w, _ in mine] == [w for w, _ in other]
    mine = ours.wv.most_similar_cosmul(positive=["koradro", "vamelu"], negative=["korelu"],
                                       topn=5)
    other = theirs.most_similar_cosmul(positive=["koradro", "vamelu"], negative=["korelu"],
                                       topn=5)
    assert [w for w, _ in mine] == [w for w, _ in other]
    for a, b in [("korati", "koradro"), ("koradro", "vamilup"), ("korati", "vamelu")]:
        assert ours.wv.similarity(a, b) == pytest.approx(theirs.similarity(a, b), abs=1e-5)
        assert ours.wv.distance(a, b) == pytest.approx(theirs.distance(a, b), abs=1e-5)
    words = ["korati", "koradro", "korelu", "vamilup"]
    assert ours.wv.doesnt_match(words) == theirs.doesnt_match(words)


def test_membership_and_missing_words_as_gensim(corpus_file, gensim, ours):
    assert "korati" in ours.wv and "zzqq" in ours.wv and "" in ours.wv
    assert "zzqq" not in ours.wv.key_to_index
    # bucket 0, or max_n < min_n (gensim sets bucket 0 then): no n-grams, vocabulary only
    for args in (dict(bucket=0), dict(min_n=4, max_n=3)):
        mine = embedkit.FastText(corpus_file=corpus_file, **dict(SMALL, **args))
        other = gensim.models.FastText(corpus_file=corpus_file, **dict(SMALL, **args))
        assert mine.wv.bucket == other.wv.bucket == 0
        assert ("zzqq" in mine.wv) == ("zzqq" in other.wv) == False  # noqa: E712
        assert ("korati" in mine.wv) == ("korati" in other.wv) == True  # noqa: E712
        with pytest.raises(KeyError):
            other.wv["zzqq"]
        with pytest.raises(KeyError, match="without ngrams"):
            mine.wv["zzqq"]
        assert mine.wv.vectors_ngrams.shape == (0, 16)


@pytest.mark.parametrize("sg", [1, 0])
def test_quality_level_with_gensim(sentences, gensim, sg):
    # Unseen words (a topic's stem with a new ending) must land among their topic's words.
    args = dict(SMALL, epochs=5, sg=sg)

    def precision(make, seed):
        m = make(sentences, seed=seed, **args)
        return topic_precision(m.wv.get_vector, m.wv.index_to_key)

    p_ours = np.mean([precision(embedkit.FastText, s) for s in (1, 2)])
    p_theirs = np.mean([precision(gensim.models.FastText, s) for s in (1, 2)])
    assert p_theirs >= 0.8, f"the oracle itself did not place the unseen words ({p_theirs})"
    assert p_ours >= p_theirs - 0.1, f"embedkit {p_ours}, gensim {p_theirs}"


def test_iterable_and_file_train_alike(sentences, corpus_file):
    a = embedkit.FastText(sentences, seed=4, **SMALL)
    b = embedkit.FastText(corpus_file=corpus_file, seed=4, **SMALL)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.wv["zzqq"], b.wv["zzqq"])


def test_callbacks_and_progress(sentences):
    from gensim.models.callbacks import CallbackAny2Vec

    class Epochs(CallbackAny2Vec):
        def __init__(self):
            self.ends = 0

        def on_epoch_end(self, model):
            self.ends += 1

    epochs = Epochs()
    reports = []
    m = embedkit.FastText(sentences, callbacks=[epochs], progress=reports.append, **SMALL)
    assert epochs.ends == 3
    assert reports and reports[-1].fraction == pytest.approx(1.0)
    assert repr(m).startswith("FastText<vocab=")


def test_save_load_and_pickle(ours, tmp_path):
    path = tmp_path / "m.npz"
    ours.save(path)
    back = embedkit.FastText.load(path)
    assert (back.min_n, back.max_n, back.bucket) == (2, 5, 5000)
    assert back.wv.index_to_key == ours.wv.index_to_key
    np.testing.assert_array_equal(back.wv.vectors, ours.wv.vectors)
    np.testing.assert_array_equal(back.wv["zzqq"], ours.wv["zzqq"])
    assert back.wv.get_vecattr("korati", "count") == ours.wv.get_vecattr("korati", "count")
    with pytest.raises(ValueError, match="not a model saved by embedkit's Word2Vec.save"):
        embedkit.Word2Vec.load(path)  # not a Word2Vec file: the formats are told apart
    kv = pickle.loads(pickle.dumps(ours.wv))
    np.testing.assert_array_equal(kv["zzqq"], ours.wv["zzqq"])
    model = pickle.loads(pickle.dumps(ours))
    np.testing.assert_array_equal(model.wv["koradro"], ours.wv["koradro"])


def test_facebook_model_is_embedkits_fasttext_model(ours, tmp_path):
    path = str(tmp_path / "m.bin")
    ours.save_facebook_model(path)
    ft = embedkit.load_model(path)
    for word in ["korati", "koradro", "zzqq"]:
        np.testing.assert_allclose(ft.get_word_vector(word), ours.wv[word], atol=1e-6)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(min_n=-1), ValueError, "min_n must be >= 0"),
    (dict(max_n=-2), ValueError, "max_n must be >= 0"),
    (dict(bucket=-1), ValueError, "bucket must be >= 0"),
    (dict(min_n=0), ValueError, "min_n >= 1"),
    (dict(bucket=2**31), ValueError, "bucket must be < 2\\*\\*31"),
    (dict(min_n=2.5), TypeError, "min_n must be an integer"),
    (dict(word_ngrams=2), NotImplementedError, "word_ngrams"),
    (dict(vector_size=0), ValueError, "vector_size must be >= 1"),
    (dict(hs=1, negative=5), ValueError, "not supported"),
])
def test_bad_arguments(sentences, kwargs, error, match):
    with pytest.raises(error, match=match):
        embedkit.FastText(sentences, **dict(SMALL, **kwargs))


def test_bad_corpora(tmp_path):
    with pytest.raises(ValueError, match="holds no words"):
        embedkit.FastText([], **SMALL)
    with pytest.raises(TypeError, match="got a string"):
        embedkit.FastText("korati vamelu", **SMALL)
    with pytest.raises(TypeError, match="tokens must be str"):
        embedkit.FastText([["korati", 3]], **SMALL)
    with pytest.raises(FileNotFoundError):
        embedkit.FastText(corpus_file=tmp_path / "missing.txt", **SMALL)
    with pytest.raises(TypeError, match="give sentences or corpus_file"):
        embedkit.FastText(**SMALL)


def test_load_facebook_vectors_and_model_as_gensim(corpus_file, gensim, fasttext, tmp_path):
    from gensim.models.fasttext import load_facebook_model, load_facebook_vectors

    path = str(tmp_path / "fasttext.bin")
    fasttext.train_unsupervised(corpus_file, dim=16, minCount=2, minn=2, maxn=5, bucket=5000,
                                epoch=2, thread=1, verbose=0).save_model(path)
    mine, theirs = embedkit.load_facebook_vectors(path), load_facebook_vectors(path)
    assert mine.index_to_key == theirs.index_to_key  # "</s>" included
    # gensim averages n-grams into "</s>" too; fastText gives the end of line none, and
    # embedkit follows fastText there.
    eos = mine.key_to_index["</s>"]
    others = [i for i in range(len(mine)) if i != eos]
    np.testing.assert_allclose(mine.vectors[others], theirs.vectors[others], rtol=0, atol=1e-6)
    np.testing.assert_allclose(mine["</s>"],
                               fasttext.load_model(path).get_word_vector("</s>"), atol=1e-6)
    np.testing.assert_array_equal(mine.vectors_ngrams, theirs.vectors_ngrams)
    for word in probes(mine):
        if word != "</s>":
            np.testing.assert_allclose(mine[word], theirs[word], rtol=0, atol=1e-6,
                                       err_msg=word)
    assert [w for w, _ in mine.most_similar("koradro", topn=5)] == \
        [w for w, _ in theirs.most_similar("koradro", topn=5)]
    assert mine.get_vecattr("korati", "count") == theirs.get_vecattr("korati", "count")

    mine, theirs = embedkit.load_facebook_model(path), load_facebook_model(path)
    for name in ("vector_size", "window", "epochs", "sg", "hs", "negative", "sample"):
        assert getattr(mine, name) == getattr(theirs, name), name
    assert (mine.wv.min_n, mine.wv.max_n, mine.wv.bucket) == \
        (theirs.wv.min_n, theirs.wv.max_n, theirs.wv.bucket)
    np.testing.assert_allclose(mine.wv["zzqq"], theirs.wv["zzqq"], atol=1e-6)
    mine.save(tmp_path / "m.npz")
    again = embedkit.FastText.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.wv["zzqq"], mine.wv["zzqq"])

    supervised = tmp_path / "sup.txt"
    supervised.write_text("__label__a korati vamelu\n__label__b suteft belond\n")
    fasttext.train_supervised(str(supervised), dim=4, verbose=0).save_model(
        str(tmp_path / "sup.bin"))
    with pytest.raises(NotImplementedError, match="Supervised"):
        embedkit.load_facebook_vectors(tmp_path / "sup.bin")
    with pytest.raises(OSError, match="missing.bin"):
        embedkit.load_facebook_model(tmp_path / "missing.bin")
    with pytest.raises(ValueError, match="encoding"):
        embedkit.load_facebook_vectors(path, encoding="latin-1")


def test_constructor_is_gensims(gensim):
    import inspect

    mine = inspect.signature(embedkit.FastText.__init__).parameters
    theirs = inspect.signature(gensim.models.FastText.__init__).parameters
    assert list(mine)[:len(theirs)] == list(theirs)  # the same names, in gensim's order
    for name, parameter in theirs.items():
        assert mine[name].default == parameter.default, name
    assert embedkit.FastText is embedkit.subword_vectors.FastText
