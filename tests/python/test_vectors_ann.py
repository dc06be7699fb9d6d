"""KeyedVectors.use_hnsw_index: approximate neighbours against the exact search (the oracle) on
generated clustered vectors with fixed seeds, the index file reused, and bad input (another
vectors' index, a truncated or corrupt file, topn larger than the vocabulary) refused with
nothing written."""

import os

import numpy as np
import pytest

import embedkit


def clustered(rows=3000, dim=32, clusters=30, seed=7):
    rng = np.random.RandomState(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.randint(clusters, size=rows)] + 0.6 * rng.normal(size=(rows, dim))
    return embedkit.KeyedVectors(["w%d" % i for i in range(rows)], vectors.astype(np.float32))


def test_recall_against_the_exact_search_and_exact_scores(tmp_path):
    exact = clustered()
    ann = clustered()
    assert not ann.has_index
    assert ann.use_hnsw_index(tmp_path / "v.hnsw", workers=1) is True
    assert ann.has_index
    found = 0
    for i in range(0, 3000, 10):
        truth = dict(exact.most_similar("w%d" % i, topn=10))
        got = ann.most_similar("w%d" % i, topn=10)
        assert len(got) == 10
        assert all(word != "w%d" % i for word, _ in got)
        found += sum(word in truth for word, _ in got)
        for word, score in got:  # a word it finds has the exact search's cosine
            if word in truth:
                assert score == truth[word]
    assert found / 3000 >= 0.95
    # restrict_vocab and topn=None stay exact.
    assert ann.most_similar("w1", topn=5, restrict_vocab=100) == exact.most_similar(
        "w1", topn=5, restrict_vocab=100)
    np.testing.assert_array_equal(ann.most_similar("w1", topn=None),
                                  exact.most_similar("w1", topn=None))
    ann.use_exact_search()
    assert not ann.has_index
    assert ann.most_similar("w3") == exact.most_similar("w3")


def test_the_saved_index_is_loaded_not_rebuilt(tmp_path):
    path = tmp_path / "v.hnsw"
    first = clustered(rows=800, dim=8, clusters=8, seed=3)
    assert first.use_hnsw_index(path, workers=1) is True
    saved = path.read_bytes()
    second = clustered(rows=800, dim=8, clusters=8, seed=3)
    assert second.use_hnsw_index(str(path)) is False
    assert path.read_bytes() == saved
    assert os.listdir(tmp_path) == ["v.hnsw"]
    for i in range(0, 800, 40):
        assert first.most_similar("w%d" % i) == second.most_similar("w%d" % i)


def test_bad_index_files_and_topn_are_clear_errors(tmp_path):
    path = tmp_path / "v.hnsw"
    clustered(rows=600, dim=8, clusters=6, seed=1).use_hnsw_index(path, workers=1)
    saved = path.read_bytes()
    other = clustered(rows=600, dim=8, clusters=6, seed=2)
    with pytest.raises(OSError, match="belongs to other vectors"):
        other.use_hnsw_index(path)
    assert not other.has_index
    (tmp_path / "cut.hnsw").write_bytes(saved[: len(saved) // 2])
    with pytest.raises(OSError, match="truncated or corrupt HNSW index"):
        clustered(rows=600, dim=8, clusters=6, seed=1).use_hnsw_index(tmp_path / "cut.hnsw")
    flipped = bytearray(saved)
    flipped[-5] ^= 0x10
    (tmp_path / "flip.hnsw").write_bytes(bytes(flipped))
    with pytest.raises(OSError, match="checksum does not match"):
        clustered(rows=600, dim=8, clusters=6, seed=1).use_hnsw_index(tmp_path / "flip.hnsw")
    assert path.read_bytes() == saved
    assert sorted(os.listdir(tmp_path)) == ["cut.hnsw", "flip.hnsw", "v.hnsw"]
    kv = clustered(rows=600, dim=8, clusters=6, seed=1)
    kv.use_hnsw_index(path)
    with pytest.raises(ValueError, match="larger than the vocabulary"):
        kv.most_similar("w0", topn=601)
    with pytest.raises(ValueError, match="ef_search must be >= 1"):
        kv.use_hnsw_index(tmp_path / "new.hnsw", ef=0)
    assert not (tmp_path / "new.hnsw").exists()
