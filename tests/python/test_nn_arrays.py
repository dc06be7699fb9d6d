"""embedkit.nn's no-copy claims, each proven: same address, and a write through one side seen by
the other. Tables are shared with the caller's array or tensor; outputs are arrays that own
embedkit's buffer; a table keeps the caller's array alive."""

import gc
import warnings
import weakref

import numpy as np
import pytest

import embedkit
from embedkit import nn
from embedkit.nn import functional as F


def address(array):
    return array.__array_interface__["data"][0]


def table(n=6, d=4, dtype=np.float32):
    return np.arange(n * d, dtype=dtype).reshape(n, d)


@pytest.mark.parametrize("cls", [nn.Embedding, nn.EmbeddingBag])
def test_a_table_built_from_an_array_shares_its_memory(cls):
    w = table()
    module = cls(6, 4, _weight=w)
    assert address(module.weight) == address(w)
    w[2, 1] = -5.0  # caller -> embedkit
    assert module.weight[2, 1] == -5.0
    ids = np.array([[2, 2]])
    out = module(ids)
    assert out.reshape(-1, 4)[0, 1] == -5.0
    module.weight[3, 0] = 99.0  # embedkit -> caller
    assert w[3, 0] == 99.0


def test_from_pretrained_shares_and_max_norm_writes_the_callers_array():
    w = table()
    module = nn.Embedding.from_pretrained(w, max_norm=1.0)
    assert address(module.weight) == address(w)
    module(np.array([1]))
    # Row 1 was renormalised in place, in the caller's array; the others are untouched.
    assert np.linalg.norm(w[1]) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_array_equal(w[2], table()[2])


def test_functional_forms_read_and_write_the_callers_table_in_place():
    w = table()
    F.embedding(np.array([4]), w, max_norm=2.0)
    assert np.linalg.norm(w[4]) == pytest.approx(2.0, rel=1e-6)
    w[0] = 7.0
    np.testing.assert_array_equal(F.embedding(np.array([0]), w), np.full((1, 4), 7.0))


@pytest.mark.parametrize("make", [
    lambda w: nn.Embedding(6, 4, _weight=w)(np.array([1, 2])),
    lambda w: nn.EmbeddingBag(6, 4, _weight=w)(np.array([[1, 2]])),
    lambda w: F.embedding(np.array([1, 2]), w),
    lambda w: F.embedding_bag(np.array([1, 2]), w, np.array([0])),
])
def test_the_output_is_embedkits_buffer_writeable_and_outlives_the_module(make):
    w = table()
    out = make(w)
    assert out.flags.writeable and out.flags.c_contiguous and out.flags.owndata is False
    # embedkit's buffer, not the table nor a view of it.
    assert not np.shares_memory(out, w)
    expected = out.copy()
    gc.collect()
    out[...] = 0.5  # writeable, and nothing else sees it
    np.testing.assert_array_equal(w, table())
    assert out.sum() == pytest.approx(0.5 * expected.size)


def test_the_output_survives_the_module_and_the_table():
    module = nn.Embedding(50, 8)
    out = module(np.arange(50))
    expected = module.weight.copy()
    del module
    gc.collect()
    np.testing.assert_array_equal(out, expected)
    weight = nn.Embedding(5, 2).weight
    gc.collect()
    weight[...] = 1.0  # the table itself outlives its module through the array
    assert weight.sum() == 10.0


def test_a_table_keeps_the_callers_array_alive():
    w = table(1000, 16)
    expected = w.copy()
    alive = weakref.ref(w)
    module = nn.Embedding(1000, 16, _weight=w)
    del w
    gc.collect()
    assert alive() is not None  # the module holds a reference
    np.testing.assert_array_equal(module(np.arange(1000)), expected)
    del module
    gc.collect()
    assert alive() is None  # and lets it go with the module


def test_the_weight_array_keeps_a_borrowed_table_alive():
    w = table()
    alive = weakref.ref(w)
    weight = nn.EmbeddingBag(6, 4, _weight=w).weight
    del w
    gc.collect()
    assert alive() is not None
    np.testing.assert_array_equal(weight, table())


def test_out_is_written_in_place_and_returned():
    w = table()
    out = np.empty((2, 4), np.float32)
    assert F.embedding(np.array([1, 3]), w, out=out) is out
    np.testing.assert_array_equal(out, w[[1, 3]])
    bags = np.empty((1, 4), np.float32)
    assert F.embedding_bag(np.array([[1, 3]]), w, mode="sum", out=bags) is bags
    np.testing.assert_array_equal(bags[0], w[1] + w[3])


def test_c_contiguous_ids_are_read_without_a_copy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", embedkit.CopyWarning)
        F.embedding(np.array([1, 2, 3], np.int32), table())
        F.embedding([1, 2, 3], table())  # a list becomes an array: nothing to warn about


def test_a_torch_tensor_given_as_table_is_shared_both_ways(torch):
    w = torch.arange(24, dtype=torch.float32).reshape(6, 4)
    module = nn.Embedding(6, 4, _weight=w)
    assert address(module.weight) == w.data_ptr()
    w[1, 2] = -3.0  # torch -> embedkit
    assert module(torch.tensor([1]))[0, 2] == -3.0
    module.weight[5, 0] = 42.0  # embedkit -> torch
    assert w[5, 0].item() == 42.0


def test_a_torch_parameter_is_shared_and_max_norm_writes_it(torch):
    w = torch.nn.Parameter(torch.randn(6, 4) * 10)
    out = F.embedding(torch.tensor([2]), w, max_norm=1.0)
    assert torch.linalg.norm(w.detach()[2]).item() == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_array_equal(out[0], w.detach()[2].numpy())


def test_a_torch_table_stays_alive_while_a_module_uses_it(torch):
    w = torch.arange(24, dtype=torch.float32).reshape(6, 4)
    module = nn.EmbeddingBag(6, 4, mode="sum", _weight=w)
    del w
    gc.collect()
    np.testing.assert_array_equal(module(np.array([[0, 5]]))[0], [20, 22, 24, 26])


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "parameter"])
def test_a_torch_table_cannot_be_resized_while_shared(torch, dtype):
    # resize_ to a larger size reallocates the storage and frees the buffer the module reads
    # and writes; PyTorch refuses it once the table is shared, as after its own t.numpy().
    if dtype == "parameter":
        w = torch.nn.Parameter(torch.randn(6, 4))
        storage = w.data
    else:
        w = torch.randn(6, 4).to(getattr(torch, dtype))
        storage = w
    module = nn.Embedding(6, 4, _weight=w)
    with pytest.raises(RuntimeError, match="not resizable"):
        storage.resize_(100_000, 4)
    assert address(module.weight) == storage.data_ptr()
    storage[1, 2] = 3  # caller -> embedkit: still one table
    bits = storage.view(torch.int16) if dtype == "bfloat16" else storage
    np.testing.assert_array_equal(module(np.array([1]))[0], bits[1].numpy())


def test_a_bfloat16_torch_table_crosses_as_int16_bits(torch):
    w = torch.randn(6, 4).to(torch.bfloat16)
    module = nn.Embedding(6, 4, _weight=w)
    assert module.dtype == "bfloat16"
    assert module.weight.dtype == np.int16 and address(module.weight) == w.data_ptr()
    out = module(torch.tensor([3, 1]))
    assert out.dtype == np.int16
    assert torch.equal(torch.from_numpy(out).view(torch.bfloat16), w[[3, 1]])


def test_a_bfloat16_numpy_table_is_int16_bits_said_by_dtype():
    w = (np.arange(12, dtype=np.float32).reshape(6, 2).view(np.uint32) >> 16).astype(np.int16)
    module = nn.Embedding(6, 2, _weight=w, dtype="bfloat16")
    assert module.dtype == "bfloat16" and address(module.weight) == address(w)
    np.testing.assert_array_equal(module(np.array([4])), w[[4]])
    bits = F.embedding_bag(np.array([[4, 5]]), w, mode="sum", dtype="bfloat16")
    as_float = (bits.astype(np.int32) << 16).view(np.float32)
    np.testing.assert_array_equal(as_float, [[8.0 + 10.0, 9.0 + 11.0]])


def test_a_new_table_is_owned_by_embedkit_and_seeded():
    nn.manual_seed(7)
    a = nn.Embedding(100, 8, padding_idx=3)
    nn.manual_seed(7)
    b = nn.Embedding(100, 8, padding_idx=3)
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(a.weight[3], np.zeros(8))
    assert abs(float(a.weight.mean())) < 0.2 and 0.8 < float(a.weight.std()) < 1.2
    assert not np.shares_memory(a.weight, b.weight)
    assert address(a.weight) == address(a.weight)  # the same table at every access


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_every_table_dtype(dtype):
    module = nn.EmbeddingBag(8, 3, dtype=dtype, mode="sum")
    assert module.dtype == dtype
    numpy_dtype = {"float32": np.float32, "float16": np.float16, "bfloat16": np.int16}[dtype]
    assert module.weight.dtype == numpy_dtype
    out = module(np.array([[1, 2]], np.int32))
    assert out.dtype == numpy_dtype and out.shape == (1, 3)


def test_reset_parameters_redraws_the_shared_table_in_place():
    w = np.full((50, 4), 9.0, np.float32)
    module = nn.EmbeddingBag(50, 4, padding_idx=2, _weight=w)
    nn.manual_seed(3)
    module.reset_parameters()
    assert address(module.weight) == address(w)
    np.testing.assert_array_equal(w[2], np.zeros(4))
    assert (w != 9.0).all(axis=1).sum() == 50
    nn.manual_seed(3)
    np.testing.assert_array_equal(nn.EmbeddingBag(50, 4, padding_idx=2).weight, w)
