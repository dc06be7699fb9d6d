"""embedkit.KeyedVectors against gensim 4's KeyedVectors on the same files: the same answers
(words equal, scores within float32 rounding), the same return types, the same evaluation
numbers. Where embedkit differs on purpose (module docstring of embedkit.keyed_vectors), the
difference is what is tested."""

import numpy as np
import pytest

import embedkit
from vectors_data import make_vectors, write_analogies, write_binary, write_pairs, write_text

TOL = 2e-6  # float32 cosines summed in another order


@pytest.fixture(params=["text", "binary"])
def both(request, tmp_path, gensim):
    """(embedkit's, gensim's) KeyedVectors loaded from the same file."""
    words, vectors = make_vectors()
    binary = request.param == "binary"
    path = tmp_path / ("vectors.bin" if binary else "vectors.txt")
    (write_binary if binary else write_text)(path, words, vectors)
    ours = embedkit.KeyedVectors.load_word2vec_format(path, binary=binary)
    theirs = gensim.models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    return ours, theirs


def assert_same_neighbours(ours, theirs):
    assert isinstance(ours, list) and all(isinstance(t, tuple) for t in ours)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    for (_, a), (_, b) in zip(ours, theirs):
        assert isinstance(a, float)
        assert a == pytest.approx(b, abs=TOL)


def test_the_files_load_alike(both):
    ours, theirs = both
    assert ours.index_to_key == theirs.index_to_key
    assert ours.key_to_index == theirs.key_to_index
    assert len(ours) == len(theirs) and ours.vector_size == theirs.vector_size
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    np.testing.assert_array_equal(ours["x3"], theirs["x3"])
    np.testing.assert_array_equal(ours[["x3", "Paris", 7]], theirs[["x3", "Paris", 7]])
    np.testing.assert_allclose(ours.get_vector("x3", norm=True),
                               theirs.get_vector("x3", norm=True), atol=1e-7)
    assert str(ours) == str(theirs)
    assert ("x3" in ours) == ("x3" in theirs) and ("nope" in ours) == ("nope" in theirs)
    assert (7 in ours) == (7 in theirs) and (10**6 in ours) == (10**6 in theirs)
    assert ours.get_index("nope", -1) == theirs.get_index("nope", -1) == -1


@pytest.mark.parametrize("call", [
    dict(positive="x3"),
    dict(positive=["x3"], topn=25),
    dict(positive=["y1", "x2"], negative=["x1"]),
    dict(positive=["y1", "x2"], negative=["x1"], restrict_vocab=100),
    dict(positive=[("y1", 2.0), ("x2", 0.5)], negative=[("x1", -1.5)]),
    dict(positive=["w10", 7], negative="w11", topn=3),
    dict(negative=["x5"]),
    dict(positive=["x3", "x3"]),
])
def test_most_similar(both, call):
    ours, theirs = both
    assert_same_neighbours(ours.most_similar(**call), theirs.most_similar(**call))


def test_most_similar_by_vector_and_aliases(both):
    ours, theirs = both
    vector = np.linspace(-1, 1, ours.vector_size).astype(np.float32)
    assert_same_neighbours(ours.most_similar(vector), theirs.most_similar(vector))
    assert_same_neighbours(ours.most_similar([vector, "x1"], ["y2"]),
                           theirs.most_similar([vector, "x1"], ["y2"]))
    assert_same_neighbours(ours.similar_by_vector(vector, topn=4),
                           theirs.similar_by_vector(vector, topn=4))
    assert_same_neighbours(ours.similar_by_word("y9", topn=4), theirs.similar_by_word("y9", topn=4))
    assert_same_neighbours(ours.similar_by_key("y9", restrict_vocab=50),
                           theirs.similar_by_key("y9", restrict_vocab=50))


def test_most_similar_topn_none_and_below_one(both):
    ours, theirs = both
    for call in (dict(positive=["y1", "x2"], negative=["x1"]),
                 dict(positive="x3", restrict_vocab=40)):
        all_ours = ours.most_similar(topn=None, **call)
        all_theirs = theirs.most_similar(topn=None, **call)
        assert all_ours.shape == all_theirs.shape
        np.testing.assert_allclose(all_ours, all_theirs, atol=TOL)
    for topn in (0, -3):
        assert ours.most_similar("x3", topn=topn) == theirs.most_similar("x3", topn=topn) == []
        assert ours.most_similar_cosmul("x3", topn=topn) == []
        assert theirs.most_similar_cosmul("x3", topn=topn) == []


@pytest.mark.parametrize("call", [
    dict(positive=["y1", "x2"], negative=["x1"]),  # the C++ 3CosMul path
    dict(positive=["y1", "x2"], negative=["x1"], topn=30),
    dict(positive="x3"),
    dict(positive=["x3", "y3", "w5"], negative=["w6", "w8"]),
    dict(positive="x3", negative="y3"),
])
def test_most_similar_cosmul(both, call):
    ours, theirs = both
    assert_same_neighbours(ours.most_similar_cosmul(**call), theirs.most_similar_cosmul(**call))
    everything = dict(call, topn=None)
    np.testing.assert_allclose(ours.most_similar_cosmul(**everything),
                               theirs.most_similar_cosmul(**everything), rtol=1e-5)


def test_most_similar_cosmul_restrict_vocab_is_honoured_where_gensim_ignores_it(both):
    ours, theirs = both
    call = dict(positive=["y1", "x2"], negative=["x1"], topn=10)
    restricted = ours.most_similar_cosmul(restrict_vocab=40, **call)
    rows = [ours.get_index(w) for w, _ in restricted]
    assert rows and max(rows) < 40
    # The same as the full search with rows >= 40 dropped.
    full = ours.most_similar_cosmul(topn=len(ours), positive=["y1", "x2"], negative=["x1"])
    assert_same_neighbours(restricted, [t for t in full if ours.get_index(t[0]) < 40][:10])
    # gensim 4.2 accepts the argument and searches everything.
    assert theirs.most_similar_cosmul(restrict_vocab=40, **call) == \
        theirs.most_similar_cosmul(**call)


def test_similarity_distance_and_friends(both):
    ours, theirs = both
    for a, b in [("x1", "y1"), ("Paris", "paris"), ("w3", 5), ("x2", "x2")]:
        assert ours.similarity(a, b) == pytest.approx(float(theirs.similarity(a, b)), abs=TOL)
        assert ours.distance(a, b) == pytest.approx(float(theirs.distance(a, b)), abs=TOL)
    assert ours.n_similarity(["x1", "y2"], ["w5", "w6", "w7"]) == pytest.approx(
        float(theirs.n_similarity(["x1", "y2"], ["w5", "w6", "w7"])), abs=TOL)
    np.testing.assert_allclose(ours.distances("x1"), theirs.distances("x1"), atol=TOL)
    np.testing.assert_allclose(ours.distances("x1", ["y1", "w4"]),
                               theirs.distances("x1", ["y1", "w4"]), atol=TOL)
    vector = ours["w9"] * 3.0
    np.testing.assert_allclose(ours.distances(vector, ["y1", "w4"]),
                               theirs.distances(vector, ["y1", "w4"]), atol=TOL)
    for words in (["x1", "x2", "x3", "y7"], ["w1", "w2", "w3", "w4", "w5"]):
        assert ours.doesnt_match(words) == theirs.doesnt_match(words)
        ranked_ours = ours.rank_by_centrality(words)
        ranked_theirs = theirs.rank_by_centrality(words)
        assert [w for _, w in ranked_ours] == [w for _, w in ranked_theirs]
        np.testing.assert_allclose([s for s, _ in ranked_ours], [s for s, _ in ranked_theirs],
                                   atol=TOL)


def test_doesnt_match_leaves_out_unknown_words_with_a_warning_as_gensim(both):
    ours, theirs = both
    words = ["x1", "x2", "nosuchword", "y9"]
    with pytest.warns(UserWarning, match="nosuchword"):
        assert ours.doesnt_match(words) == theirs.doesnt_match(words)


def test_n_similarity_refuses_unknown_words_where_gensim_drops_them(both):
    ours, theirs = both
    with pytest.raises(KeyError, match="nosuchword"):
        ours.n_similarity(["x1", "nosuchword"], ["y1"])
    assert float(theirs.n_similarity(["x1", "nosuchword"], ["y1"])) == pytest.approx(
        ours.n_similarity(["x1"], ["y1"]), abs=TOL)
    with pytest.raises(ZeroDivisionError):
        ours.n_similarity([], ["y1"])


@pytest.mark.parametrize("options", [
    dict(),
    dict(case_insensitive=False),
    dict(restrict_vocab=45),
    dict(dummy4unknown=True),
    dict(restrict_vocab=61, case_insensitive=False, dummy4unknown=True),
])
def test_evaluate_word_analogies(both, tmp_path, options):
    ours, theirs = both
    path = tmp_path / "questions.txt"
    write_analogies(path)
    score, sections = ours.evaluate_word_analogies(path, **options)
    gensim_score, gensim_sections = theirs.evaluate_word_analogies(str(path), **options)
    assert sections == gensim_sections
    assert score == gensim_score
    total = sections[-1]
    assert total["section"] == "Total accuracy"
    # The file is made so that both answers occur.
    assert total["correct"] and total["incorrect"]


def test_evaluate_word_analogies_needs_a_section_first(both, tmp_path):
    ours, theirs = both
    path = tmp_path / "questions.txt"
    path.write_text("x1 y1 x2 y2\n")
    with pytest.raises(ValueError, match="Missing section header"):
        theirs.evaluate_word_analogies(str(path))
    with pytest.raises(ValueError, match="Missing section header"):
        ours.evaluate_word_analogies(path)


@pytest.mark.parametrize("options", [
    dict(),
    dict(case_insensitive=False),
    dict(restrict_vocab=200),
    dict(dummy4unknown=True),
    dict(delimiter=","),
])
def test_evaluate_word_pairs(both, tmp_path, options):
    ours, theirs = both
    path = tmp_path / "pairs.txt"
    write_pairs(path, ours.index_to_key, delimiter=options.get("delimiter", "\t"))
    pearson, spearman, oov = ours.evaluate_word_pairs(path, **options)
    g_pearson, g_spearman, g_oov = theirs.evaluate_word_pairs(str(path), **options)
    assert oov == pytest.approx(g_oov, rel=1e-12)
    # The correlations (embedkit's, in C++) and the p-values (the t-test scipy computes).
    assert pearson[0] == pytest.approx(g_pearson[0], abs=1e-6)
    assert spearman[0] == pytest.approx(g_spearman[0], abs=1e-6)
    assert pearson[1] == pytest.approx(g_pearson[1], rel=1e-4, abs=1e-12)
    assert spearman[1] == pytest.approx(g_spearman[1], rel=1e-4, abs=1e-12)
    assert (pearson.statistic, pearson.pvalue) == tuple(pearson)
    assert (spearman.correlation, spearman.pvalue) == tuple(spearman)


def test_correlation_pvalues_equal_scipys_over_the_whole_range(gensim):
    from scipy import stats  # gensim's own dependency, the oracle gensim's p-values come from

    from embedkit.keyed_vectors import _correlation_pvalue
    assert _correlation_pvalue(-1.0, 2, n2_pvalue=1.0) == stats.pearsonr([1, 2], [3, 1])[1]
    rng = np.random.default_rng(3)
    for n in (3, 4, 10, 50, 353, 3000):
        for strength in (0.0, 0.3, 1.0, 5.0):
            x = rng.standard_normal(n)
            y = strength * x + rng.standard_normal(n)
            r, p = stats.pearsonr(x, y)
            assert _correlation_pvalue(float(r), n) == pytest.approx(p, rel=1e-8, abs=1e-300)
            rho, p = stats.spearmanr(x, y)
            assert _correlation_pvalue(float(rho), n) == pytest.approx(p, rel=1e-8, abs=1e-300)


def test_evaluate_word_pairs_with_nothing_to_score(both, tmp_path):
    ours, theirs = both
    path = tmp_path / "pairs.txt"
    path.write_text("nosuch\tword\t1.0\n")
    with pytest.raises(ValueError, match="No valid similarity judgements"):
        theirs.evaluate_word_pairs(str(path))
    with pytest.raises(ValueError, match="No valid similarity judgements"):
        ours.evaluate_word_pairs(path)


def test_gensim_reads_what_embedkit_writes(both, tmp_path, gensim):
    ours, _ = both
    for binary in (False, True):
        path = tmp_path / f"out{int(binary)}"
        ours.save_word2vec_format(path, binary=binary)
        back = gensim.models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
        assert back.index_to_key == ours.index_to_key
        np.testing.assert_array_equal(back.vectors, ours.vectors)
    glove = tmp_path / "glove.txt"
    ours.save_word2vec_format(glove, write_header=False)
    back = gensim.models.KeyedVectors.load_word2vec_format(str(glove), no_header=True)
    np.testing.assert_array_equal(back.vectors, ours.vectors)


def test_missing_words_are_key_errors_as_in_gensim(both):
    ours, theirs = both
    for call in (lambda kv: kv["nosuchword"], lambda kv: kv.most_similar("nosuchword"),
                 lambda kv: kv.similarity("x1", "nosuchword"),
                 lambda kv: kv.most_similar_cosmul(["x1", "nosuchword"], ["y1"]),
                 lambda kv: kv.get_vector("nosuchword"), lambda kv: kv.get_index(10**6)):
        with pytest.raises(KeyError):
            call(theirs)
        with pytest.raises(KeyError):
            call(ours)
    # embedkit's message (gensim's is "Key 'nosuchword' not present").
    with pytest.raises(KeyError, match="word 'nosuchword' is not in the vocabulary"):
        ours["nosuchword"]
