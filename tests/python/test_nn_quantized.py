"""embedkit.nn's row-wise quantized tables from Python, without an oracle: the API, the no-copy
claims (each proven: same address, and a write through the caller's array seen by the table),
the mapped table, every error (a Python exception, nothing changed), and the GIL released.
The bytes and the bags against PyTorch's ops: test_nn_quantized_torch_diff.py."""

import gc
import json
import pathlib
import re
import weakref

import numpy as np
import pytest

from embedkit import nn
from embedkit.nn import functional as F
from test_nn_threads import runs_alongside

BITS = [8, 4, 2]


def address(array):
    return array.__array_interface__["data"][0]


def table(n=6, d=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def row_of_ones(packed, bits, r):
    """Rewrites packed row r in place so that it stands for all ones: codes 0, scale 1,
    bias 1 (float32 for 8 bits, float16 for 4 and 2)."""
    scale_bias = np.array([1, 1], np.float32 if bits == 8 else np.float16).view(np.uint8)
    packed[r, :-scale_bias.size] = 0
    packed[r, -scale_bias.size:] = scale_bias


# ---- the API ----


@pytest.mark.parametrize("bits", BITS)
def test_from_float_describes_its_table(bits):
    bag = nn.QuantizedEmbeddingBag.from_float(table(6, 8), bits=bits)
    assert (bag.num_embeddings, bag.embedding_dim, bag.bits) == (6, 8, bits)
    assert bag.dtype == {8: "quint8", 4: "quint4x2", 2: "quint2x4"}[bits]
    assert bag.row_bytes == {8: 16, 4: 8, 2: 6}[bits]
    assert bag.packed.shape == (6, bag.row_bytes) and bag.packed.dtype == np.uint8
    assert (bag.mode, bag.include_last_offset, bag.padding_idx) == ("sum", False, None)
    fmt = {8: "int8", 4: "int4", 2: "int2"}[bits]
    assert repr(bag) == (f"QuantizedEmbeddingBag(num_embeddings=6, embedding_dim=8, "
                         f"format={fmt}, mode=sum)")


def test_torch_ao_name_and_dtype_spellings():
    assert nn.quantized.EmbeddingBag is nn.QuantizedEmbeddingBag
    w = table()
    for spelling in (4, "quint4x2"):
        assert nn.QuantizedEmbeddingBag.from_float(w, bits=spelling).bits == 4
        np.testing.assert_array_equal(F.quantize(w, spelling), F.quantize(w, 4))


@pytest.mark.parametrize("bits", BITS)
def test_bags_are_close_to_the_float_bags_and_mean_divides_the_sum(bits):
    w = table(50, 16)
    ids = np.array([1, 2, 4, 5, 4, 9, 9, 9])
    offsets = np.array([0, 2, 2, 5])  # an empty bag
    bag = nn.QuantizedEmbeddingBag.from_float(w, bits=bits)
    deq = bag.dequantize()
    want = nn.EmbeddingBag.from_pretrained(deq, mode="sum")(ids, offsets)
    got = bag(ids, offsets)
    assert got.dtype == np.float32 and got.shape == (4, 16)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got[1], 0)
    # Within the stated accuracy of the float table (docs/quantization.md): half a step.
    step = {8: 255, 4: 15, 2: 3}[bits]
    half_step = (w.max(axis=1) - w.min(axis=1)) / step / 2
    assert np.all(np.abs(deq - w) <= half_step[:, None] * 1.01 + 1e-3)
    mean = nn.QuantizedEmbeddingBag.from_float(w, bits=bits, mode="mean")(ids, offsets)
    np.testing.assert_array_equal(mean[[0, 2, 3]],
                                  got[[0, 2, 3]] / np.array([[2], [3], [3]], np.float32))
    np.testing.assert_array_equal(mean[1], 0)


def test_two_d_ids_include_last_offset_padding_and_per_sample_weights():
    w = table(10, 4)
    bag = nn.QuantizedEmbeddingBag.from_float(w, padding_idx=0)
    rows = F.quantized_embedding(np.arange(10), bag)
    np.testing.assert_array_equal(bag(np.array([[3, 0], [0, 0]])), np.stack([rows[3], 0 * rows[3]]))
    last = nn.QuantizedEmbeddingBag.from_float(w, include_last_offset=True)
    np.testing.assert_array_equal(last(np.array([1, 2, 3]), np.array([0, 1, 3])),
                                  bag(np.array([1, 2, 3]), np.array([0, 1])))
    psw = np.array([2.0, 0.5], np.float32)
    got = F.quantized_embedding_bag(np.array([7, 8]), bag, np.array([0]),
                                    per_sample_weights=psw)
    np.testing.assert_allclose(got[0], 2 * rows[7] + 0.5 * rows[8], rtol=1e-6)
    assert F.quantized_embedding(np.array([[1, 2, 3]]), bag).shape == (1, 3, 4)


def test_a_module_from_a_float_embedkit_module_takes_its_options():
    float_bag = nn.EmbeddingBag.from_pretrained(table(), mode="mean", padding_idx=2,
                                                include_last_offset=True)
    bag = nn.QuantizedEmbeddingBag.from_float(float_bag, bits=2)
    assert (bag.mode, bag.padding_idx, bag.include_last_offset) == ("mean", 2, True)
    np.testing.assert_array_equal(bag.packed, F.quantize(table(), 2))


def test_the_constructor_follows_torch_ao_and_zeroes_a_table_it_makes():
    bag = nn.QuantizedEmbeddingBag(5, 8, mode="mean", dtype="quint4x2")
    assert (bag.bits, bag.mode) == (4, "mean")
    np.testing.assert_array_equal(bag.dequantize(), np.zeros((5, 8), np.float32))
    packed = F.quantize(table(5, 8), 4)
    given = nn.QuantizedEmbeddingBag(5, 8, _weight=packed, dtype=4)
    assert address(given.packed) == address(packed)


def test_unknown_ids_policies_are_the_float_bags():
    w = table(6, 8)
    rows = nn.QuantizedEmbeddingBag.from_float(w).dequantize()
    to_row = nn.QuantizedEmbeddingBag.from_float(w, unknown_ids=2)
    np.testing.assert_allclose(to_row(np.array([[99, 1]])), [rows[2] + rows[1]], rtol=1e-6)
    hashed = F.quantized_embedding(np.array([99, -7]), F.quantize(w), unknown_ids="hash")
    assert hashed.shape == (2, 8)
    assert all(any(np.allclose(h, r, rtol=1e-6) for r in rows) for h in hashed)
    with pytest.raises(ValueError, match="unknown_ids"):
        nn.QuantizedEmbeddingBag.from_float(w, unknown_ids="skip")


def test_no_bags_empty_bags_and_an_empty_table():
    packed = F.quantize(np.ones((3, 8), np.float32))
    none = np.array([], np.int64)
    # No bags at all (PyTorch 1.13 crashes on empty offsets, so no oracle here).
    assert F.quantized_embedding_bag(none, packed, none).shape == (0, 8)
    assert F.quantized_embedding_bag(np.zeros((0, 3), np.int64), packed).shape == (0, 8)
    np.testing.assert_array_equal(F.quantized_embedding_bag(np.zeros((2, 0), np.int64), packed,
                                                            mode="mean"), np.zeros((2, 8)))
    assert F.quantize(np.zeros((0, 8), np.float32), 4).shape == (0, 8)
    empty = nn.QuantizedEmbeddingBag.from_packed(np.zeros((0, 16), np.uint8))
    assert (empty.num_embeddings, empty.embedding_dim) == (0, 8)
    assert empty.dequantize().shape == (0, 8)
    assert F.quantized_embedding(none, empty).shape == (0, 8)
    with pytest.raises(IndexError):
        empty(np.array([[0]]))


@pytest.mark.parametrize("bits", BITS)
def test_rows_packed_by_quantize_give_the_modules_results(bits):
    w = table(30, 16, seed=bits)
    packed = F.quantize(w, bits)
    bag = nn.QuantizedEmbeddingBag.from_float(w, bits=bits)
    ids, offsets = np.array([0, 29, 3, 3]), np.array([0, 1])
    np.testing.assert_array_equal(F.quantized_embedding_bag(ids, packed, offsets, bits=bits),
                                  bag(ids, offsets))
    np.testing.assert_array_equal(F.dequantize(packed, bits), bag.dequantize())
    op = {8: "byte", 4: "4bit", 2: "2bit"}[bits]
    np.testing.assert_array_equal(getattr(F, f"embedding_bag_{op}_prepack")(w), packed)
    np.testing.assert_array_equal(getattr(F, f"embedding_bag_{op}_unpack")(packed),
                                  bag.dequantize())


# ---- no copies ----


@pytest.mark.parametrize("bits", BITS)
def test_packed_rows_are_shared_and_a_write_to_them_is_seen(bits):
    packed = F.quantize(table(6, 8), bits)
    assert packed.flags.writeable and packed.flags.c_contiguous
    bag = nn.QuantizedEmbeddingBag.from_packed(packed, bits)
    assert address(bag.packed) == address(packed) and np.shares_memory(bag.packed, packed)
    row_of_ones(packed, bits, 4)  # the caller writes its array...
    np.testing.assert_array_equal(bag.dequantize()[4], np.ones(8, np.float32))  # ...seen
    np.testing.assert_array_equal(bag(np.array([[4, 4]])), np.full((1, 8), 2.0, np.float32))
    np.testing.assert_array_equal(F.quantized_embedding(np.array([4]), packed, bits=bits),
                                  np.ones((1, 8), np.float32))
    # The module's side is read-only: its view cannot write the caller's bytes.
    assert not bag.packed.flags.writeable
    with pytest.raises(ValueError):
        bag.packed[0, 0] = 1


def test_packed_rows_of_a_torch_tensor_are_shared(torch):
    packed = torch.ops.quantized.embedding_bag_4bit_prepack(torch.randn(6, 8), False, 200, 0.16)
    bag = nn.QuantizedEmbeddingBag.from_packed(packed, 4)
    assert address(bag.packed) == packed.data_ptr()
    row_of_ones(packed.numpy(), 4, 2)
    np.testing.assert_array_equal(bag(np.array([[2]])), np.ones((1, 8), np.float32))
    tensor = torch.ops.quantized.embedding_bag_byte_prepack(torch.randn(3, 4))
    out = F.quantized_embedding_bag(torch.tensor([0, 1]), tensor, torch.tensor([0]))
    assert out.shape == (1, 4)


def test_a_torch_tensor_whose_rows_are_shared_cannot_be_resized_under_the_module(torch):
    # resize_ to a larger size reallocates the storage and frees the buffer the module reads;
    # PyTorch refuses it once the rows are shared, as after its own t.numpy().
    packed = torch.ops.quantized.embedding_bag_byte_prepack(torch.randn(6, 8))
    expected = packed.clone()
    bag = nn.QuantizedEmbeddingBag.from_packed(packed)
    with pytest.raises(RuntimeError, match="not resizable"):
        packed.resize_(100_000, 16)
    assert address(bag.packed) == packed.data_ptr()
    np.testing.assert_array_equal(bag(np.array([[2, 5]])),
                                  F.quantized_embedding_bag(np.array([[2, 5]]), expected.numpy()))


def test_a_table_keeps_the_callers_packed_array_alive():
    packed = F.quantize(table(100, 8))
    expected = packed.copy()
    alive = weakref.ref(packed)
    bag = nn.QuantizedEmbeddingBag.from_packed(packed)
    del packed
    gc.collect()
    assert alive() is not None
    np.testing.assert_array_equal(bag.packed, expected)
    view = bag.packed
    del bag
    gc.collect()
    assert alive() is not None  # the view holds the table, which holds the array
    del view
    gc.collect()
    assert alive() is None


def test_quantize_returns_a_new_array_and_leaves_the_table_unchanged():
    w = table()
    packed = F.quantize(w)
    assert not np.shares_memory(packed, w)
    np.testing.assert_array_equal(w, table())
    bag = nn.QuantizedEmbeddingBag.from_float(w)
    assert not np.shares_memory(bag.packed, w)


@pytest.mark.parametrize("bits", BITS)
def test_a_saved_table_is_mapped_not_copied(tmp_path, bits):
    w = table(40, 16, seed=3)
    saved = nn.QuantizedEmbeddingBag.from_float(w, bits=bits)
    path = tmp_path / "table.safetensors"
    saved.save(path)
    bag = nn.QuantizedEmbeddingBag.from_file(path, mode="mean")
    assert (bag.bits, bag.num_embeddings, bag.embedding_dim, bag.mode) == (bits, 40, 16, "mean")
    np.testing.assert_array_equal(bag.packed, saved.packed)
    assert not bag.packed.flags.writeable
    ids = np.array([[1, 39, 7]])
    expected = saved(ids) / np.float32(3)
    np.testing.assert_array_equal(bag(ids), expected)
    # The file's bytes are what the table reads: rewritten in place, row 7 is seen as ones.
    raw = path.read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    start = 8 + int.from_bytes(raw[:8], "little") + header["weight"]["data_offsets"][0]
    rows = np.frombuffer(raw, np.uint8, 40 * bag.row_bytes, start).reshape(40, -1).copy()
    row_of_ones(rows, bits, 7)
    with open(path, "r+b") as f:
        f.seek(start)
        f.write(rows.tobytes())
    np.testing.assert_array_equal(bag.dequantize()[7], np.ones(16, np.float32))
    other = tmp_path / "other.safetensors"
    saved.save(other, name="emb")
    assert nn.QuantizedEmbeddingBag.from_file(other, "emb").num_embeddings == 40


# ---- errors: a Python exception, and nothing changed ----


def index_message(value, position, high):
    return f"ids: value {value} at position {position} is outside the valid range [0, {high})"


OUT_OF_RANGE = [
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p)(np.array([1, 6, 2]), np.array([0])), 6, 1),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p)(np.array([[1, 2], [0, -1]])), -1, 3),
    (lambda p: F.quantized_embedding_bag(np.array([0, 0, 9]), p, np.array([0, 1])), 9, 2),
    (lambda p: F.quantized_embedding(np.array([[5, 7]]), p), 7, 1),
    (lambda p: F.embedding_bag_byte_rowwise_offsets(p, np.array([2, 100]), np.array([0])), 100,
     1),
]


@pytest.mark.parametrize("call, value, position", OUT_OF_RANGE)
def test_an_out_of_range_id_is_an_index_error_naming_its_position(call, value, position):
    packed = F.quantize(table())
    with pytest.raises(IndexError) as error:
        call(packed)
    assert str(error.value) == index_message(value, position, 6)
    np.testing.assert_array_equal(packed, F.quantize(table()))


BAD_PACKED = [
    (lambda p: p.astype(np.float32), {}, TypeError, "uint8"),
    (lambda p: p.view(np.int8), {}, TypeError, "uint8"),
    (lambda p: p.reshape(-1), {}, ValueError, "2-D"),
    (lambda p: p[None], {}, ValueError, "2-D"),
    (lambda p: p[:, :12], {}, ValueError, "C-contiguous"),
    (lambda p: p, {"embedding_dim": 7}, ValueError, "embedding_dim 7 are 15 bytes"),
    (lambda p: np.ascontiguousarray(p[:, :5]), {}, ValueError, "at least 9 bytes"),
    (lambda p: np.zeros((3, 3), np.uint8), {"bits": 4}, ValueError, "at least 5 bytes"),
    (lambda p: p, {"bits": 4, "embedding_dim": 8}, ValueError, "rows of embedding_dim 8 are 8"),
    (lambda p: p, {"bits": 3}, ValueError, "bits must be 8, 4 or 2"),
    (lambda p: None, {}, TypeError, "None"),
]


@pytest.mark.parametrize("make, kwargs, error, words", BAD_PACKED)
def test_packed_rows_that_are_not_a_table_are_refused(make, kwargs, error, words):
    packed = F.quantize(table(6, 8))  # rows of 16 bytes
    with pytest.raises(error, match=words):
        nn.QuantizedEmbeddingBag.from_packed(make(packed), **kwargs)
    with pytest.raises(error, match=words):
        F.dequantize(make(packed), **kwargs)
    np.testing.assert_array_equal(packed, F.quantize(table(6, 8)))


SIZE_ERROR = "int8 rows of embedding_dim 7 are 15 bytes, but the given rows are 16 bytes"
CALLED = [
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p, embedding_dim=7),
     "embedkit.nn.QuantizedEmbeddingBag.from_packed"),
    (lambda p: nn.QuantizedEmbeddingBag(6, 7, _weight=p),
     "embedkit.nn.QuantizedEmbeddingBag(_weight=...)"),
    (lambda p: F.dequantize(p, embedding_dim=7), "embedkit.nn.functional.dequantize"),
    (lambda p: F.quantized_embedding_bag(np.array([1]), p, np.array([0]), embedding_dim=7),
     "embedkit.nn.functional.quantized_embedding_bag"),
    (lambda p: F.quantized_embedding(np.array([1]), p, embedding_dim=7),
     "embedkit.nn.functional.quantized_embedding"),
]


@pytest.mark.parametrize("call, api", CALLED)
def test_a_size_error_names_the_python_function_called(call, api):
    # The C++ check's message, after the name of what the caller called, not the C++ function
    # (QuantizedTable.from_blob) the binding reaches.
    with pytest.raises(ValueError) as error:
        call(F.quantize(table(6, 8)))  # rows of 16 bytes: D = 8
    assert str(error.value) == f"{api}: {SIZE_ERROR}"


BAD_FLOAT = [
    (lambda w: w.astype(np.float64), {}, TypeError, "float64"),
    (lambda w: w.astype(np.int32), {}, TypeError, "float32, float16 or bfloat16, got int32"),
    (lambda w: w[0], {}, ValueError, "2-D"),
    (lambda w: np.ascontiguousarray(w[:, :7]), {"bits": 4}, ValueError, "multiple of 2"),
    (lambda w: np.ascontiguousarray(w[:, :6]), {"bits": 2}, ValueError, "multiple of 4"),
    (lambda w: w[:, :0], {}, ValueError, "embedding_dim >= 1"),
    (lambda w: np.where(np.arange(8) == 3, np.nan, w).astype(np.float32), {}, ValueError,
     r"weight\[0\]\[3\] is nan"),
    (lambda w: w * np.float32(1e30), {"bits": 4}, ValueError, "float16"),
    (lambda w: w, {"bits": 16}, ValueError, "bits must be"),
    (lambda w: w, {"bits": "qint8"}, ValueError, "bits must be"),
]


@pytest.mark.parametrize("make, kwargs, error, words", BAD_FLOAT)
def test_a_float_table_that_cannot_be_packed_is_refused(make, kwargs, error, words):
    w = table()
    with pytest.raises(error, match=words):
        F.quantize(make(w), **kwargs)
    with pytest.raises(error, match=words):
        nn.QuantizedEmbeddingBag.from_float(make(w), **kwargs)
    np.testing.assert_array_equal(w, table())


BAD_CALLS = [
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p, mode="max"), ValueError, "max mode"),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p, mode="avg"), ValueError, "mode"),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p, padding_idx=6), ValueError,
     "padding_idx"),
    (lambda p: nn.QuantizedEmbeddingBag(6, 8, max_norm=1.0), ValueError, "max_norm"),
    (lambda p: nn.QuantizedEmbeddingBag(6, 8, scale_grad_by_freq=True), ValueError, "max_norm"),
    (lambda p: nn.QuantizedEmbeddingBag(5, 8, _weight=p), ValueError, "6 rows"),
    (lambda p: nn.QuantizedEmbeddingBag(6, 8, device="cuda"), ValueError, "device"),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p)(np.array([1, 2, 3]),
                                                       np.array([0, 2, 1])),
     ValueError, "non-decreasing"),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p)(np.array([1, 2])), ValueError, ""),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p)(np.array([1.0]), np.array([0])),
     TypeError, "float64"),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p)(None), TypeError, "None"),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p, mode="mean")(
        np.array([1, 2]), np.array([0]), np.ones(2, np.float32)), ValueError, "mode sum"),
    (lambda p: F.quantized_embedding_bag(np.array([1, 2]), p, np.array([0]),
                                         per_sample_weights=np.ones(3, np.float32)),
     ValueError, "shape"),
    (lambda p: F.quantized_embedding_bag(np.array([1, 2]), p, np.array([0]),
                                         per_sample_weights=np.ones(2, np.float16)),
     TypeError, "float16"),
    (lambda p: F.quantized_embedding_bag(np.array([1]), nn.QuantizedEmbeddingBag.from_packed(p),
                                         np.array([0]), bits=4), ValueError, "bits is 4"),
    (lambda p: F.quantized_embedding(np.array([1]), nn.QuantizedEmbeddingBag.from_packed(p),
                                     embedding_dim=4), ValueError, "embedding_dim is 4"),
    (lambda p: F.embedding_bag_byte_rowwise_offsets(p, np.array([1]), np.array([0]), mode=1),
     ValueError, "only sums"),
    (lambda p: F.embedding_bag_byte_rowwise_offsets(p, np.array([1]), np.array([0]),
                                                    pruned_weights=True), ValueError, "pruned"),
    (lambda p: nn.QuantizedEmbeddingBag.from_packed(p)(np.array([[1]]),
                                                       compressed_indices_mapping=np.array([0])),
     ValueError, "pruned"),
    (lambda p: nn.QuantizedEmbeddingBag.from_file("no/such/table.safetensors"),
     FileNotFoundError, "table.safetensors"),
]


@pytest.mark.parametrize("call, error, words", BAD_CALLS)
def test_bad_options_and_inputs_are_python_errors_and_change_nothing(call, error, words):
    packed = F.quantize(table(6, 8))
    with pytest.raises(error, match=words):
        call(packed)
    np.testing.assert_array_equal(packed, F.quantize(table(6, 8)))


def test_a_file_that_is_not_a_quantized_table_is_an_os_error(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(OSError):
        nn.QuantizedEmbeddingBag.from_file(path)
    saved = tmp_path / "t.safetensors"
    nn.QuantizedEmbeddingBag.from_float(table()).save(saved)
    with pytest.raises(OSError):
        nn.QuantizedEmbeddingBag.from_file(saved, name="other")


# ---- the GIL ----


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(5)
    bag = nn.QuantizedEmbeddingBag.from_float(
        rng.standard_normal((100_000, 64)).astype(np.float32), bits=4)
    ids = rng.integers(0, 100_000, 1_000_000)
    return bag, ids, np.arange(0, ids.size, 500)


CALLS = {
    "module_forward": lambda bag, ids, off: bag(ids, off),
    "quantized_embedding": lambda bag, ids, off: F.quantized_embedding(ids[:200_000], bag),
    "dequantize": lambda bag, ids, off: bag.dequantize(),
    "quantize": lambda bag, ids, off: F.quantize(bag.dequantize()),
}


@pytest.mark.parametrize("call", CALLS)
def test_another_python_thread_runs_while_a_quantized_call_computes(big, call):
    assert runs_alongside(CALLS[call], *big), f"{call} held the GIL through 50 calls"


# ---- docs/python.md's example ----


def test_the_docs_example_runs(tmp_path, monkeypatch):
    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md").read_text()
    start = text.index("### Quantized tables for serving")
    section = text[start:text.index("\n## ", start)]
    (example,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)  # the example saves a table
    scope = {}
    exec(compile(example, "docs/python.md quantized example", "exec"), scope)
    assert scope["out"].shape == (2, 128) and scope["packed"].shape == (10_000, 136)
    assert scope["bag"].row_bytes == 68
    np.testing.assert_array_equal(scope["served"].packed, scope["bag"].packed)
