"""Bad input to embedkit.nn: a clear Python exception, and nothing changed (the table above all,
also with max_norm, which writes the table when a call succeeds)."""

import warnings

import numpy as np
import pytest

import embedkit
from embedkit import nn
from embedkit.nn import functional as F


def big_table(n=6, d=4):
    # Every row's norm is far above 1, so max_norm=1 would rewrite any row a call got to.
    return (np.arange(n * d, dtype=np.float32).reshape(n, d) + 10.0) * 3.0


def index_message(value, position, high):
    # The C++ library's IndexError text (src/core/error.cpp), unchanged across the boundary.
    return f"ids: value {value} at position {position} is outside the valid range [0, {high})"


OUT_OF_RANGE = [
    (lambda w: F.embedding(np.array([[1, 2], [7, 0]]), w, max_norm=1.0), 7, 2),
    (lambda w: F.embedding(np.array([0, -1]), w, max_norm=1.0), -1, 1),
    (lambda w: nn.Embedding(6, 4, _weight=w, max_norm=1.0)(np.array([3, 6])), 6, 1),
    (lambda w: F.embedding_bag(np.array([1, 2, 9]), w, np.array([0, 1]), max_norm=1.0), 9, 2),
    (lambda w: nn.EmbeddingBag(6, 4, _weight=w, max_norm=1.0, mode="max")(
        np.array([[5, 1], [0, -3]])), -3, 3),
    (lambda w: F.embedding_backward(np.array([2, 8]), np.ones((2, 4), np.float32), 6), 8, 1),
    (lambda w: F.embedding_bag_backward(np.array([[2, 8]]), w, np.ones((1, 4), np.float32)), 8, 1),
]


@pytest.mark.parametrize("call, value, position", OUT_OF_RANGE)
def test_an_out_of_range_id_is_an_index_error_naming_its_position_and_changes_nothing(
        call, value, position):
    w = big_table()
    with pytest.raises(IndexError) as error:
        call(w)
    assert str(error.value) == index_message(value, position, 6)
    np.testing.assert_array_equal(w, big_table())


BAD_OFFSETS = [
    (np.array([1, 2, 3]), np.array([1, 2]), {}, r"offsets\[0\] must be 0"),
    (np.array([1, 2, 3]), np.array([0, 2, 1]), {}, "non-decreasing"),
    (np.array([1, 2, 3]), np.array([0, 4]), {}, "past the end"),
    (np.array([1, 2, 3]), np.array([0, 2]), {"include_last_offset": True}, "last offset"),
    (np.array([1, 2, 3]), np.array([], np.int64), {}, ""),
    (np.array([[1, 2, 3]]), np.array([0]), {}, "2-D ids"),
    (np.array([1, 2, 3]), None, {}, "need offsets"),
    (np.array([[[1]]]), None, {}, ""),
    (np.array([1, 2, 3]), np.array([[0]]), {}, ""),
]


@pytest.mark.parametrize("ids, offsets, extra, words", BAD_OFFSETS)
def test_bad_offsets_are_value_errors_and_change_nothing(ids, offsets, extra, words):
    w = big_table()
    with pytest.raises(ValueError, match=words):
        F.embedding_bag(ids, w, offsets, max_norm=1.0, **extra)
    with pytest.raises(ValueError, match=words):
        nn.EmbeddingBag(6, 4, _weight=w, max_norm=1.0, **extra)(ids, offsets)
    np.testing.assert_array_equal(w, big_table())


@pytest.mark.parametrize("ids", [np.array([1.0, 2.0]), np.array([1, 2], np.float32), [0.5],
                                 np.array([1, 2], np.uint8), np.array([True])])
def test_ids_that_are_not_integers_are_type_errors(ids):
    w = big_table()
    with pytest.raises(TypeError):
        F.embedding(ids, w, max_norm=1.0)
    with pytest.raises(TypeError):
        nn.EmbeddingBag(6, 4, _weight=w, max_norm=1.0)(ids, np.array([0]))
    np.testing.assert_array_equal(w, big_table())


@pytest.mark.parametrize("weight", [np.ones((6, 4), np.int64), np.ones((6, 4), np.int32),
                                    np.ones((6, 4), np.float64), np.ones((6, 4), np.complex64)])
def test_tables_that_are_not_float32_float16_or_bfloat16_are_type_errors(weight):
    with pytest.raises(TypeError):
        F.embedding(np.array([1]), weight)
    with pytest.raises(TypeError):
        F.embedding_bag(np.array([[1]]), weight)
    with pytest.raises(TypeError):
        nn.Embedding(6, 4, _weight=weight)
    with pytest.raises(TypeError):
        nn.EmbeddingBag.from_pretrained(weight)


def test_other_type_errors():
    w = big_table()
    with pytest.raises(TypeError, match="float16"):  # per-sample weights in another dtype
        F.embedding_bag(np.array([1, 2]), w, np.array([0]), mode="sum",
                        per_sample_weights=np.ones(2, np.float16))
    with pytest.raises(TypeError):  # a gradient in another dtype than the table
        nn.Embedding(6, 4).backward(np.array([1]), np.ones((1, 4), np.float16))
    with pytest.raises(TypeError, match="dtype is float16 but the table is float32"):
        nn.Embedding(6, 4, _weight=w, dtype="float16")
    with pytest.raises(TypeError):
        nn.Embedding(6, 4, dtype="int64")
    with pytest.raises(TypeError):  # int16 bits are bfloat16 only when said so
        nn.Embedding(6, 4, _weight=np.ones((6, 4), np.int16))
    with pytest.raises(TypeError, match="expected an array, got None"):
        F.embedding(None, w)
    with pytest.raises(TypeError, match="expected an array, got None"):
        F.embedding(np.array([1]), None)
    np.testing.assert_array_equal(w, big_table())


@pytest.mark.parametrize("weight", [big_table(6, 8)[:, ::2], big_table(4, 6).T])
def test_a_non_contiguous_table_is_a_value_error_not_a_silent_copy(weight):
    before = weight.copy()
    with pytest.raises(ValueError, match="C-contiguous"):
        F.embedding(np.array([1]), weight, max_norm=1.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        nn.EmbeddingBag(6, 4, _weight=weight)
    with pytest.raises(ValueError, match="C-contiguous"):
        nn.Embedding.from_pretrained(weight)
    np.testing.assert_array_equal(weight, before)


def test_a_read_only_table_is_a_value_error():
    w = big_table()
    w.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        F.embedding(np.array([1]), w)
    with pytest.raises(ValueError, match="writeable"):
        nn.Embedding(6, 4, _weight=w)


def test_non_contiguous_inputs_are_copied_with_a_copy_warning():
    w = big_table()
    ids = np.array([[1, 9], [2, 9], [3, 9]])[:, 0]  # strided
    psw = np.array([[0.5, 0], [2.0, 0], [1.0, 0]], np.float32)[:, 0]
    with pytest.warns(embedkit.CopyWarning, match="ids: not C-contiguous"):
        out = F.embedding(ids, w)
    np.testing.assert_array_equal(out, w[[1, 2, 3]])
    with pytest.warns(embedkit.CopyWarning, match="per_sample_weights"):
        out = F.embedding_bag(np.array([1, 2, 3]), w, np.array([0]), mode="sum",
                              per_sample_weights=psw)
    np.testing.assert_allclose(out[0], 0.5 * w[1] + 2.0 * w[2] + w[3], rtol=1e-6)
    offsets = np.array([0, 9, 2, 9])[::2]
    with pytest.warns(embedkit.CopyWarning, match="offsets"):
        F.embedding_bag(np.array([1, 2, 3]), w, offsets)
    grad = np.ones((4, 3), np.float32).T  # (3, 4), Fortran order
    with pytest.warns(embedkit.CopyWarning, match="grad_output"):
        F.embedding_backward(np.array([1, 2, 3]), grad, 6)
    # A CopyWarning can be made an error, and then nothing runs.
    with warnings.catch_warnings():
        warnings.simplefilter("error", embedkit.CopyWarning)
        with pytest.raises(embedkit.CopyWarning):
            F.embedding(ids, w, max_norm=1.0)
    np.testing.assert_array_equal(w, big_table())


def test_a_read_only_contiguous_input_is_read_in_place_without_warning():
    ids = np.array([1, 2])
    ids.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error", embedkit.CopyWarning)
        out = F.embedding(ids, big_table())
    np.testing.assert_array_equal(out, big_table()[[1, 2]])


WRONG_SHAPES = [
    (lambda w: nn.Embedding(6, 4, _weight=w[:5]), "shape"),
    (lambda w: nn.EmbeddingBag(7, 4, _weight=w), "shape"),
    (lambda w: F.embedding(np.array([1]), np.ones(6, np.float32)), "2-D"),
    (lambda w: F.embedding_bag(np.array([[1]]), np.ones((2, 3, 4), np.float32)), "2-D"),
    (lambda w: nn.Embedding.from_pretrained(np.ones(6, np.float32)), "2-D"),
    (lambda w: nn.Embedding(6, 4).backward(np.array([1, 2]), np.ones((3, 4), np.float32)),
     "grad_output"),
    (lambda w: F.embedding_bag_backward(np.array([[1, 2]]), w, np.ones((2, 4), np.float32)), ""),
    (lambda w: F.embedding_bag(np.array([1, 2]), w, np.array([0]), mode="sum",
                               per_sample_weights=np.ones(3, np.float32), max_norm=1.0),
     "per_sample_weights"),
    (lambda w: F.embedding(np.array([1, 2]), w, max_norm=1.0, out=np.ones((3, 4), np.float32)),
     "shape"),
    (lambda w: F.embedding_bag(np.array([[1, 2]]), w, max_norm=1.0,
                               out=np.ones((1, 5), np.float32)), "shape"),
]


@pytest.mark.parametrize("call, words", WRONG_SHAPES)
def test_wrong_shapes_are_value_errors_and_change_nothing(call, words):
    w = big_table()
    with pytest.raises(ValueError, match=words):
        call(w)
    np.testing.assert_array_equal(w, big_table())


BAD_OPTIONS = [
    lambda w: F.embedding_bag(np.array([[1, 2]]), w, mode="median", max_norm=1.0),
    lambda w: F.embedding_bag(np.array([[1, 2]]), w, mode="mean", max_norm=1.0,
                              per_sample_weights=np.ones((1, 2), np.float32)),
    lambda w: F.embedding_bag(np.array([[1, 2]]), w, mode="max", sparse=True, max_norm=1.0),
    lambda w: F.embedding(np.array([1]), w, max_norm=-1.0),
    lambda w: F.embedding(np.array([1]), w, max_norm=1.0, norm_type=0.0),
    lambda w: F.embedding(np.array([1]), w, padding_idx=6, max_norm=1.0),
    lambda w: F.embedding_bag(np.array([[1]]), w, padding_idx=-7, max_norm=1.0),
    lambda w: nn.Embedding(6, 4, padding_idx=6),
    lambda w: nn.Embedding(-1, 4),
    lambda w: nn.EmbeddingBag(6, 4, mode="max", scale_grad_by_freq=True),
    lambda w: nn.Embedding(6, 4, sparse=True, scale_grad_by_freq=True),
    lambda w: nn.Embedding(6, 4, device="cuda"),
    lambda w: nn.Embedding(6, 4, unknown_ids="ignore"),
    lambda w: nn.Embedding.from_pretrained(w).backward(np.array([1]), np.ones((1, 4), np.float32)),
]


@pytest.mark.parametrize("call", BAD_OPTIONS)
def test_bad_options_are_value_errors_and_change_nothing(call):
    w = big_table()
    with pytest.raises(ValueError):
        call(w)
    np.testing.assert_array_equal(w, big_table())


def test_a_frozen_table_trains_once_requires_grad_is_set():
    module = nn.Embedding.from_pretrained(big_table())
    assert module.requires_grad is False
    module.requires_grad = True
    grad = module.backward(np.array([1]), np.ones((1, 4), np.float32))
    np.testing.assert_array_equal(grad[1], np.ones(4))


def test_out_must_not_overlap_the_table():
    w = big_table()
    with pytest.raises(ValueError):
        F.embedding(np.array([1]), w, out=w[:1])
    np.testing.assert_array_equal(w, big_table())


def test_unknown_ids_policies_are_explicit():
    w = big_table()
    out = F.embedding(np.array([1, 100]), w, unknown_ids=0)
    np.testing.assert_array_equal(out, w[[1, 0]])
    hashed = F.embedding(np.array([100, 100]), w, unknown_ids="hash")
    np.testing.assert_array_equal(hashed[0], hashed[1])
    assert any((hashed[0] == row).all() for row in w)


def test_torch_tables_and_inputs_follow_the_same_rules(torch):
    table = torch.from_numpy(big_table(6, 8))
    with pytest.raises(ValueError, match="C-contiguous"):
        F.embedding(torch.tensor([1]), table[:, ::2], max_norm=1.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        nn.Embedding(8, 6, _weight=table.t())
    with pytest.raises(TypeError):
        F.embedding(torch.tensor([1.0]), table)
    with pytest.raises(TypeError):
        F.embedding(torch.tensor([1]), table.double())
    ids = torch.tensor([[1, 9], [2, 9]])[:, 0]  # strided
    with pytest.warns(embedkit.CopyWarning, match="ids"):
        out = F.embedding(ids, table)
    np.testing.assert_array_equal(out, table[[1, 2]].numpy())
    np.testing.assert_array_equal(table.numpy(), big_table(6, 8))
