"""embedkit.Word2Vec against gensim's Word2Vec (the oracle) with the same arguments: the same
vocabulary and counts, and the same quality on a corpus with planted topics (not the same
numbers: the random streams differ)."""

import numpy as np
import pytest

import embedkit
from word2vec_corpus import groups_corpus, neighbour_precision, write_corpus

GROUPS, GROUP_SIZE = 8, 8


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    sentences = groups_corpus(600, groups=GROUPS, group_size=GROUP_SIZE, seed=5)
    return write_corpus(tmp_path_factory.mktemp("corpus") / "c.txt", sentences)


def test_same_vocabulary_and_counts(corpus_file, gensim):
    args = dict(vector_size=16, min_count=90, epochs=1, workers=1)
    ours = embedkit.Word2Vec(corpus_file=str(corpus_file), **args)
    theirs = gensim.models.Word2Vec(corpus_file=str(corpus_file), **args)
    # min_count 90 sits amid the topic words' counts (~90 each): some are kept, some not.
    assert 5 < len(ours.wv.index_to_key) < GROUPS * GROUP_SIZE
    assert set(ours.wv.index_to_key) == set(theirs.wv.index_to_key)
    for word, count in zip(ours.wv.index_to_key, ours.counts):
        assert theirs.wv.get_vecattr(word, "count") == count, word
        assert ours.wv.get_vecattr(word, "count") == count, word
    assert ours.corpus_total_words == theirs.corpus_total_words


# 600 sentences: enough for both to learn the topics, few enough that a weaker training shows
# (CBOW's precision is 0.93-0.99 for both over seeds; it falls to ~0.3 at 400 sentences).
@pytest.mark.parametrize("sg,hs,negative", [(1, 0, 5), (0, 0, 5), (1, 1, 0)])
def test_both_find_the_planted_neighbours(corpus_file, gensim, sg, hs, negative):
    def precision(model_class, seed):
        model = model_class(corpus_file=str(corpus_file), sg=sg, hs=hs, negative=negative,
                            vector_size=32, window=4, min_count=1, epochs=5, workers=1, seed=seed)
        return neighbour_precision(model.wv.index_to_key, model.wv.vectors, GROUPS, GROUP_SIZE)

    seeds = (1, 2, 3)
    p_ours = np.mean([precision(embedkit.Word2Vec, s) for s in seeds])
    p_theirs = np.mean([precision(gensim.models.Word2Vec, s) for s in seeds])
    assert p_theirs >= 0.9, f"the oracle itself did not learn the topics ({p_theirs})"
    assert p_ours >= 0.9, f"embedkit {p_ours}, gensim {p_theirs}"
    assert p_ours >= p_theirs - 0.05, f"embedkit {p_ours}, gensim {p_theirs}"
