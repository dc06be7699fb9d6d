"""The Python benchmarks (bench/python) measure what they claim: their synthetic data has the
documented shape, the harness interleaves the sides, and both sides of a training comparison
train the same model on the same data (tiny sizes, so it runs in seconds)."""

import os
import sys

import numpy as np
import pytest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "python")


@pytest.fixture
def bench(torch):
    """The benchmark's modules (they import torch)."""
    if BENCH not in sys.path:
        sys.path.insert(0, BENCH)
    import harness  # noqa: PLC0415
    import synthetic  # noqa: PLC0415
    import train_step  # noqa: PLC0415
    return harness, synthetic, train_step


def test_text_lines_are_words_then_their_bigrams(bench):
    _, synthetic, _ = bench
    data = synthetic.text_data(words=50, buckets=70, classes=3, batch=6, count=2, min_len=2,
                               max_len=5, seed=3)
    assert data.rows == 120
    for batch in data.batches:
        bags = batch.features[0]
        ids, offsets = bags.ids.numpy(), bags.offsets.numpy()
        ends = np.append(offsets[1:], len(ids))
        for start, end in zip(offsets, ends):
            size = end - start
            assert size % 2 == 1  # n words and n - 1 bigrams
            words, bigrams = ids[start:start + (size + 1) // 2], ids[start + (size + 1) // 2:end]
            assert 2 <= len(words) <= 5
            assert np.all(words < 50)
            assert np.all((bigrams >= 50) & (bigrams < 120))
            expected = 50 + (words[:-1].astype(np.uint64) * np.uint64(116049371)
                             + words[1:].astype(np.uint64)) % np.uint64(70)
            assert np.array_equal(bigrams, expected.astype(np.int64))
        assert batch.target.shape == (6,)
        assert int(batch.target.min()) >= 0 and int(batch.target.max()) < 3


def test_dlrm_batches_have_one_bag_per_table_and_sample(bench):
    _, synthetic, _ = bench
    data = synthetic.dlrm_data(rows=300, tables=3, bag=4, batch=5, count=2, seed=1)
    for batch in data.batches:
        assert len(batch.features) == 3
        for bags in batch.features:
            assert bags.ids.shape == (20,)
            assert bags.offsets.tolist() == [0, 4, 8, 12, 16]
            assert int(bags.ids.min()) >= 0 and int(bags.ids.max()) < 300
        assert set(batch.target.tolist()) <= {0.0, 1.0}


def test_zipf_ids_are_skewed(bench):
    _, synthetic, _ = bench
    rng = np.random.default_rng(0)
    sampler = synthetic.ZipfSampler(1000, 1.05, rng)
    counts = np.bincount(sampler(rng, 100_000), minlength=1000)
    top = sampler.rank_to_id[0]
    assert counts[top] == counts.max()
    assert counts[top] > 50 * np.median(counts)


def test_reversed_bags_reverse_each_bag_and_nothing_else(bench, torch):
    _, synthetic, _ = bench
    bags = synthetic.Bags(torch.tensor([1, 2, 3, 4, 5, 6]), torch.tensor([0, 3, 3, 4]))
    batch = synthetic.Batch([bags], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    flipped = synthetic.reversed_bags(batch)
    assert flipped.features[0].ids.tolist() == [3, 2, 1, 4, 6, 5]
    assert flipped.features[0].offsets.tolist() == [0, 3, 3, 4]
    assert synthetic.reversed_bags(flipped).features[0].ids.tolist() == [1, 2, 3, 4, 5, 6]


def test_interleaved_alternates_the_order_and_skips_the_warm_up(bench):
    harness, _, _ = bench
    calls = []
    sides = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    seconds = harness.interleaved(sides, samples=3, per_sample=2, warmup=1)
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] + ["b", "b", "a", "a"] + ["a", "a", "b", "b"]
    assert [len(v) for v in seconds.values()] == [3, 3]


TINY_DLRM = dict(rows=2000, adagrad_rows=1000, tables=3, dim=8, bag=5, batch=32, hidden=[16],
                 batches=3, samples=2, per_sample=2, warmup=1,
                 lr={"sgd": 0.05, "adagrad": 0.05})
TINY_TEXT = dict(words=300, buckets=700, dim=12, classes=3, batch=16, batches=3, samples=2,
                 per_sample=2, warmup=1, lr={"sgd": 0.5, "adagrad": 0.1, "sparse_adam": 0.01})


@pytest.mark.parametrize("model,optimizer", [("dlrm", "sgd"), ("text", "sgd"),
                                             ("text", "sparse_adam")])
def test_both_sides_train_the_same_model(bench, model, optimizer):
    _, _, train_step = bench
    cfg = TINY_DLRM if model == "dlrm" else TINY_TEXT
    result = train_step.run_case(model, optimizer, dict(cfg), threads=1, contender="embedkit")
    assert result["sides"] == ["torch", "embedkit"]
    steps = cfg["warmup"] + cfg["samples"] * cfg["per_sample"]
    assert result["loss"]["torch"]["steps"] == result["loss"]["embedkit"]["steps"] == steps
    assert result["max_loss_difference"] < 1e-5
    assert result["max_weight_difference"] < 1e-5
    # Training moved the tables (a comparison of two untouched copies would prove nothing).
    assert result["loss"]["torch"]["first"] != result["loss"]["torch"]["last_sample_mean"]
    assert result["ratio"]["min"] > 0
    assert "embedding backward + update (fused)" in result["phases"]["embedkit"]
    assert "embedding optimizer step" in result["phases"]["torch"]


def test_torch_against_itself_is_identical(bench):
    _, _, train_step = bench
    result = train_step.run_case("dlrm", "adagrad", dict(TINY_DLRM), threads=1,
                                 contender="torch")
    assert result["sides"] == ["torch", "torch (copy)"]
    assert result["max_loss_difference"] == 0.0
    assert result["max_weight_difference"] == 0.0


@pytest.mark.parametrize("table", ["module", "torch", "huge"])
def test_embedding_step_times_the_embeddings_over_each_kind_of_table(bench, table):
    """embedding_step.py runs the text model's embeddings over the table --table names and
    reports both phases for cycled batches and for the same batch; the modules' own table (88 MB
    at --quick) lies on a 2 MiB boundary, where embedkit asks for huge pages."""
    import embedding_step  # noqa: PLC0415

    bags, results = embedding_step.main(["text", "sgd", "--quick", "--table", table,
                                         "--calls", "3", "--repeats", "1"])
    assert [same for same, _, _ in results] == [False, True]
    assert all(f > 0 and b > 0 for _, f, b in results)
    if table == "module":
        assert bags.single.weight.numel() * 4 >= 32 << 20
        assert bags.single.weight.data_ptr() % (2 << 20) == 0
