"""embedkit.nn's row-wise quantized tables against PyTorch's own quantized ops (Debian's
python3-torch 1.13, without FBGEMM: ATen's reference paths), bit for bit, as the C++
differential tests (tests/torch/test_quantized_diff.cpp) compare them:

- packed bytes: functional.quantize / QuantizedEmbeddingBag.from_float against
  torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_prepack;
- dequantize against embedding_bag_*_unpack;
- sum bags (int32 and int64 ids, per-sample weights, include_last_offset, empty bags, padding
  ids left out) against embedding_bag_*_rowwise_offsets, on PyTorch's packed bytes shared
  as they are; lookups against bags of one id;
- mean bags, which PyTorch's ops do not have, against PyTorch's sum / bag size in float32.

Shapes: random narrow ones and wide rows (D >= 512), several thread counts.
"""

import inspect

import numpy as np
import pytest

import embedkit
from embedkit import nn
from embedkit.nn import functional as F

OPS = {8: "byte", 4: "4bit", 2: "2bit"}


def prepack(torch, w, bits):
    op = getattr(torch.ops.quantized, f"embedding_bag_{OPS[bits]}_prepack")
    return op(w) if bits == 8 else op(w, False, 200, 0.16)


def unpack(torch, packed, bits):
    return getattr(torch.ops.quantized, f"embedding_bag_{OPS[bits]}_unpack")(packed)


def torch_bags(torch, packed, bits, ids, offsets, psw=None, include_last_offset=False):
    op = getattr(torch.ops.quantized, f"embedding_bag_{OPS[bits]}_rowwise_offsets")
    return op(packed, torch.from_numpy(ids), torch.from_numpy(offsets), False, 0, False,
              None if psw is None else torch.from_numpy(psw), None,
              include_last_offset).numpy()


def bits_equal(a, b):
    """Bitwise equality of two float32 arrays, with the first difference as the message."""
    a = np.ascontiguousarray(a, np.float32)
    b = np.ascontiguousarray(b, np.float32)
    assert a.shape == b.shape
    differ = np.flatnonzero(a.view(np.uint32) != b.view(np.uint32))
    assert differ.size == 0, (f"{differ.size} elements differ, first at {differ[0]}: "
                              f"{a.flat[differ[0]]!r} vs {b.flat[differ[0]]!r}")


def random_table(rng, rows, dim, kind):
    """Values that stress the rounding, as the C++ test's: N(0, 1); multiples of 1/4 (codes on
    exact halves); tiny and huge scales; steps of 0.1 above 3; sometimes a constant row."""
    if kind == 0:
        w = rng.standard_normal((rows, dim))
    elif kind == 1:
        w = rng.integers(-8, 9, (rows, dim)) / 4.0
    elif kind == 2:
        w = rng.standard_normal((rows, dim)) * 1e-3
    elif kind == 3:
        w = rng.standard_normal((rows, dim)) * 1000.0
    else:
        w = rng.integers(0, 256, (rows, dim)) * np.float32(0.1) + 3.0
    w = w.astype(np.float32)
    if rows > 1 and rng.random() < 0.5:
        w[0] = 0.3
    return w


def random_dim(rng, bits, wide=False):
    per_byte = 8 // bits
    if wide:
        return int(rng.choice([512, 520, 1000, 1024]))
    return per_byte * int(rng.integers(1, 80 // per_byte + 1))


def random_bags(rng, rows, num_bags, max_len=6):
    """Offsets with empty bags, and ids into `rows` rows."""
    offsets = np.concatenate([[0], np.cumsum(rng.integers(0, max_len + 1, num_bags - 1))])
    n = int(offsets[-1] + rng.integers(0, max_len + 1))
    return rng.integers(0, rows, n), offsets


CASES = [(bits, case) for bits in OPS for case in range(100)]


@pytest.mark.parametrize("bits, case", CASES)
def test_quantize_writes_pytorchs_prepack_bytes_and_dequantize_is_its_unpack(torch, bits, case):
    rng = np.random.default_rng(1000 * bits + case)
    rows = int(rng.integers(1, 41))
    dim = random_dim(rng, bits, wide=case % 8 == 0)
    w = random_table(rng, rows, dim, case % 5)
    expected = prepack(torch, torch.from_numpy(w), bits).numpy()
    packed = F.quantize(w, bits)
    assert packed.dtype == np.uint8 and packed.shape == expected.shape
    np.testing.assert_array_equal(packed, expected)
    bag = nn.QuantizedEmbeddingBag.from_float(torch.from_numpy(w), bits=bits)
    np.testing.assert_array_equal(bag.packed, expected)
    bits_equal(F.dequantize(expected, bits), unpack(torch, torch.from_numpy(expected), bits))
    bits_equal(bag.dequantize(), unpack(torch, torch.from_numpy(expected), bits))


@pytest.mark.parametrize("bits", OPS)
def test_float16_and_bfloat16_tables_pack_as_pytorch_packs_them_widened(torch, bits):
    rng = np.random.default_rng(7 + bits)
    w = random_table(rng, 30, random_dim(rng, bits), 0)
    half = torch.from_numpy(w).to(torch.float16)
    # PyTorch 1.13's byte prepack without FBGEMM reads a float16 buffer as float32 (garbage
    # rows, docs/quantization.md); its 4- and 2-bit prepacks widen float16 themselves. embedkit
    # widens exactly, so it is compared with the prepack of the widened table.
    expected = prepack(torch, half.float() if bits == 8 else half, bits).numpy()
    np.testing.assert_array_equal(F.quantize(half, bits), expected)
    np.testing.assert_array_equal(F.quantize(half.numpy(), bits), expected)
    brain = torch.from_numpy(w).to(torch.bfloat16)
    expected = prepack(torch, brain.float(), bits).numpy()
    np.testing.assert_array_equal(F.quantize(brain, bits), expected)
    np.testing.assert_array_equal(F.quantize(brain.view(torch.int16).numpy(), bits,
                                             dtype="bfloat16"), expected)


@pytest.mark.parametrize("bits, case", CASES)
def test_sum_bags_on_pytorchs_packed_bytes_equal_rowwise_offsets(torch, bits, case):
    rng = np.random.default_rng(2000 * bits + case)
    rows = int(rng.integers(1, 31))
    dim = random_dim(rng, bits, wide=case % 8 == 0)
    packed = prepack(torch, torch.from_numpy(random_table(rng, rows, dim, case % 5)), bits)
    # At least one bag: PyTorch 1.13 reads offsets[0] of empty offsets (a crash).
    ids, offsets = random_bags(rng, rows, int(rng.integers(1, 13)))
    id_type = np.int32 if case % 2 else np.int64
    ids, offsets = ids.astype(id_type), offsets.astype(id_type)
    last = case % 3 == 0
    off = np.append(offsets, id_type(ids.size)) if last else offsets
    psw = rng.standard_normal(ids.size).astype(np.float32) if case % 4 < 2 else None
    expected = torch_bags(torch, packed, bits, ids, off, psw, last)

    bag = nn.QuantizedEmbeddingBag.from_packed(packed, bits, include_last_offset=last)
    bits_equal(bag(ids, off, psw), expected)
    bits_equal(F.quantized_embedding_bag(ids, packed, off, per_sample_weights=psw,
                                         include_last_offset=last, bits=bits), expected)
    alias = getattr(F, f"embedding_bag_{OPS[bits]}_rowwise_offsets")
    bits_equal(alias(packed, ids, off, per_sample_weights=psw, include_last_offset=last),
               expected)

    # Lookups are bags of one id.
    one = np.arange(ids.size + 1, dtype=id_type)[:-1]
    bits_equal(F.quantized_embedding(ids, bag), torch_bags(torch, packed, bits, ids, one)
               .reshape(ids.size, dim))

    if psw is None:
        # Mean: PyTorch's sum / bag size, in float32; an empty bag is zeros.
        mean = nn.QuantizedEmbeddingBag.from_packed(packed, bits, mode="mean",
                                                    include_last_offset=last)(ids, off)
        bounds = np.append(offsets, ids.size)
        sizes = np.diff(bounds).astype(np.float32)[:, None]
        with np.errstate(invalid="ignore"):
            want = np.where(sizes > 0, expected / np.maximum(sizes, np.float32(1)), 0)
        bits_equal(mean, want.astype(np.float32))


@pytest.mark.parametrize("bits", OPS)
def test_padding_ids_are_left_out_as_if_absent(torch, bits):
    rng = np.random.default_rng(31 + bits)
    packed = prepack(torch, torch.from_numpy(random_table(rng, 20, 16, 0)), bits)
    ids, offsets = random_bags(rng, 20, 10)
    ids[::3] = 5
    keep = ids != 5
    kept_offsets = np.array([keep[:o].sum() for o in offsets])
    expected = torch_bags(torch, packed, bits, ids[keep], kept_offsets)
    bag = nn.QuantizedEmbeddingBag.from_packed(packed, bits, padding_idx=5)
    bits_equal(bag(ids, offsets), expected)
    bits_equal(nn.QuantizedEmbeddingBag.from_packed(packed, bits, padding_idx=-15)(ids, offsets),
               expected)


@pytest.mark.parametrize("bits", OPS)
@pytest.mark.parametrize("dim", [512, 520, 1024])
@pytest.mark.parametrize("threads", [1, 3])
def test_wide_rows_and_many_bags_equal_pytorchs_at_several_thread_counts(torch, bits, dim,
                                                                         threads):
    rng = np.random.default_rng(dim + bits)
    rows = 3000
    packed = prepack(torch, torch.from_numpy(random_table(rng, rows, dim, 0)), bits)
    ids, offsets = random_bags(rng, rows, 400, max_len=30)
    psw = rng.standard_normal(ids.size).astype(np.float32)
    expected = torch_bags(torch, packed, bits, ids, offsets, psw)
    before = embedkit.get_num_threads()
    embedkit.set_num_threads(threads)
    try:
        got = nn.QuantizedEmbeddingBag.from_packed(packed, bits)(ids, offsets, psw)
    finally:
        embedkit.set_num_threads(before)
    bits_equal(got, expected)


def test_a_float_module_quantizes_with_its_options(torch):
    w = torch.randn(12, 8)
    float_bag = torch.nn.EmbeddingBag(12, 8, mode="sum", include_last_offset=True,
                                      padding_idx=3, _weight=w)
    bag = nn.QuantizedEmbeddingBag.from_float(float_bag, bits=4)
    assert (bag.mode, bag.include_last_offset, bag.padding_idx, bag.dtype) == (
        "sum", True, 3, "quint4x2")
    np.testing.assert_array_equal(bag.packed, prepack(torch, w, 4).numpy())
    assert nn.QuantizedEmbeddingBag.from_float(float_bag, mode="mean").mode == "mean"
    assert nn.QuantizedEmbeddingBag.from_float(w, bits=torch.quint2x4).bits == 2
    assert nn.QuantizedEmbeddingBag(12, 8, dtype=torch.quint4x2).dtype == "quint4x2"


def parameter_names(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self"]


def test_the_constructor_and_forward_take_torch_aos_arguments(torch):
    ao = torch.ao.nn.quantized.EmbeddingBag
    assert parameter_names(nn.QuantizedEmbeddingBag.__init__) == parameter_names(ao.__init__)
    assert parameter_names(nn.QuantizedEmbeddingBag.forward) == parameter_names(ao.forward)
