"""embedkit.nn against PyTorch (python3-torch 1.13, CPU) on the same random inputs.

Seeded random cases over several shapes (tiny; wide rows D=256; many ids), every dtype, every
mode and option. The comparison policy is the C++ differential tests' (tests/torch, headers of
test_embedding_diff.cpp and test_embedding_bag_diff.cpp; docs/conformance.md), unchanged:

- bitwise: outputs without max_norm (Embedding: every dtype; EmbeddingBag: sum and max for
  float32 / float16), the table when max_norm is off (untouched), float32 dense Embedding
  gradients without scale_grad_by_freq, sparse gradients' indices and values (EmbeddingBag:
  float32, and float16 in sum mode).
- exact: which rows max_norm renormalised (max_norm is kept 20% away from every row's norm).
- tolerance |embedkit - torch| <= atol + rtol * max(|torch|, m), m the same computation over
  absolute values: float32 atol 1e-6 rtol 1e-5; float16 atol 1e-4 rtol 1e-2; bfloat16 atol
  1e-3 rtol 3e-2. Everything else (mean, max_norm, 16-bit and bag dense gradients,
  scale_grad_by_freq, per-sample-weight gradients).
- Where embedkit deliberately differs from 1.13 (docs/conformance.md, "Where embedkit differs"),
  the reference is a float64 model of the correct result: EmbeddingBag's scale_grad_by_freq
  gradient (1.13 divides by another row's count) and max mode after max_norm (a last-bit
  difference in the renormalised table may move an arg-max). 1.13 has no bfloat16 EmbeddingBag on
  CPU and renormalises 16-bit tables with 16-bit intermediates, so those run torch in float32 on
  the same values, as tests/torch does.
"""

import itertools

import numpy as np
import pytest

from embedkit import nn
from embedkit.nn import functional as F

TOLERANCE = {"float32": (1e-6, 1e-5), "float16": (1e-4, 1e-2), "bfloat16": (1e-3, 3e-2)}


# ---- helpers -------------------------------------------------------------------------------

def as_float64(array, dtype):
    """Values of an embedkit array (bfloat16 given as int16 bits) as float64."""
    array = np.asarray(array)
    if dtype == "bfloat16":
        return (array.view(np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return array.astype(np.float64)


def torch_to_numpy(torch, tensor):
    """A torch tensor as embedkit returns it (bfloat16 as int16 bits)."""
    tensor = tensor.detach()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().copy()
    return tensor.numpy().copy()


def assert_bitwise(what, actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype.itemsize == expected.dtype.itemsize, f"{what}: dtypes differ"
    bits = np.dtype(f"u{actual.dtype.itemsize}")
    differ = np.flatnonzero(actual.view(bits) != expected.view(bits))
    first = differ[0] if differ.size else None
    assert differ.size == 0, (f"{what}: {differ.size} elements differ bitwise, first at {first}: "
                              f"{actual.flat[first]} vs {expected.flat[first]}")


def assert_close(what, actual, expected, dtype, magnitude=None):
    """|actual - expected| <= atol + rtol * max(|expected|, magnitude), elementwise."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    atol, rtol = TOLERANCE[dtype]
    scale = np.abs(expected)
    if magnitude is not None:
        scale = np.maximum(scale, np.asarray(magnitude, np.float64))
    ok = np.abs(actual - expected) <= atol + rtol * scale  # False for NaN, as wanted
    bad = np.flatnonzero(~ok)
    assert bad.size == 0, (f"{what}: {bad.size} of {ok.size} out of tolerance, first at "
                           f"{bad[0]}: {actual.flat[bad[0]]} vs {expected.flat[bad[0]]}")


def changed_rows(before, after):
    return np.flatnonzero((np.asarray(before) != np.asarray(after)).any(axis=1)).tolist()


def p_norms(rows, p):
    return np.abs(rows).max(axis=1) if p == np.inf else (np.abs(rows) ** p).sum(axis=1) ** (1 / p)


def random_table(rng, n, d, dtype, max_norm=None, norm_type=2.0):
    """float32 values exactly representable in `dtype` (and as embedkit holds them).

    With max_norm, each row's norm is drawn 20% or more away from it on either side, so that
    whether a row is renormalised is no rounding question.
    """
    values = rng.standard_normal((n, d)).astype(np.float32)
    if max_norm is not None and d > 0:
        norms = p_norms(values.astype(np.float64), norm_type)
        norms[norms == 0] = 1.0
        factor = np.where(rng.random(n) < 0.5, rng.uniform(0.2, 0.8, n), rng.uniform(1.25, 4, n))
        values = (values / norms[:, None] * (factor * max_norm)[:, None]).astype(np.float32)
    if dtype == "float16":
        return values.astype(np.float16), values.astype(np.float16).astype(np.float32)
    if dtype == "bfloat16":
        bits = (values.view(np.uint32) >> 16).astype(np.uint16)  # truncation: representable
        exact = (bits.astype(np.uint32) << 16).view(np.float32)
        return bits.view(np.int16), exact
    return values, values


def row_above(table, max_norm, norm_type):
    """A row that max_norm renormalises (so that every max_norm case renormalises one)."""
    return int(np.flatnonzero(p_norms(table.astype(np.float64), norm_type) > max_norm)[0])


def torch_dtype(torch, dtype):
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]


def torch_renorm(torch, table, ids, max_norm, norm_type):
    """PyTorch's renorm; 16-bit tables through a float32 copy, as tests/torch's oracle does."""
    with torch.no_grad():
        if table.dtype == torch.float32:
            torch.embedding_renorm_(table, ids.reshape(-1), max_norm, norm_type)
            return
        wide = table.to(torch.float32)
        torch.embedding_renorm_(wide, ids.reshape(-1), max_norm, norm_type)
        table.copy_(wide)


# ---- Embedding -------------------------------------------------------------------------------

SHAPES = {
    "tiny": (50, 3, (7,)),
    "wide": (1000, 256, (24, 10)),
    "many_ids": (30000, 16, (20000,)),
}
EMBEDDING_VARIANTS = {
    "plain": {},
    "padding": {"padding_idx": 0},
    "max_norm_p2": {"max_norm": 1.5},
    "max_norm_p1_padding": {"max_norm": 2.0, "norm_type": 1.0, "padding_idx": -1},
    "max_norm_inf_sparse": {"max_norm": 0.7, "norm_type": np.inf, "sparse": True},
    "scale_grad_by_freq": {"scale_grad_by_freq": True, "padding_idx": 3},
    "sparse_padding": {"sparse": True, "padding_idx": 1},
}
EMBEDDING_CASES = list(itertools.product(["float32", "float16", "bfloat16"], SHAPES,
                                         EMBEDDING_VARIANTS))


@pytest.mark.parametrize("dtype, shape, variant", EMBEDDING_CASES)
def test_embedding_equals_torch(torch, dtype, shape, variant):
    case = EMBEDDING_CASES.index((dtype, shape, variant))
    rng = np.random.default_rng(1000 + case)
    n, d, ids_shape = SHAPES[shape]
    options = dict(EMBEDDING_VARIANTS[variant])
    max_norm, norm_type = options.get("max_norm"), options.get("norm_type", 2.0)
    table, exact = random_table(rng, n, d, dtype, max_norm, norm_type)
    # Ids drawn from a part of the table so that rows repeat (duplicates, counts > 1), and the
    # padding row appears.
    ids = rng.integers(0, min(n, 3 * int(np.prod(ids_shape)) // 4 + 1), ids_shape)
    ids.flat[:: 5] = (options.get("padding_idx") or 0) % n
    if max_norm is not None:
        ids.flat[1] = row_above(exact, max_norm, norm_type)
    ids = ids.astype(np.int32 if case % 2 else np.int64)
    grad_output, _ = random_table(rng, int(np.prod(ids_shape)), d, dtype)
    grad_output = grad_output.reshape(ids_shape + (d,))

    # PyTorch, as the Python front end runs it.
    tdtype = torch_dtype(torch, dtype)
    t_table = torch.from_numpy(exact.copy()).to(tdtype).requires_grad_()
    t_ids = torch.from_numpy(ids)
    t_options = dict(options)
    if max_norm is not None and dtype != "float32":
        torch_renorm(torch, t_table, t_ids, max_norm, norm_type)
        t_options.pop("max_norm")
    t_out = torch.nn.functional.embedding(t_ids, t_table, **t_options)
    t_out.backward(torch.from_numpy(as_float64(grad_output, dtype)).to(tdtype))

    # embedkit: through the module or the functional form, from NumPy or from torch tensors.
    mine = table.copy()
    if case % 3 == 0:
        module = nn.Embedding(n, d, _weight=mine, dtype=dtype, **options)
        out = module(torch.from_numpy(ids))
        grad = module.backward(ids, grad_output)
    else:
        out = F.embedding(ids, mine, dtype=dtype, **options)
        backward_options = {k: v for k, v in options.items() if k not in ("max_norm", "norm_type")}
        grad = F.embedding_backward(ids, grad_output, n, dtype=dtype, **backward_options)

    t_table_after = torch_to_numpy(torch, t_table)
    if max_norm is None:
        assert_bitwise("output", out, torch_to_numpy(torch, t_out))
        assert_bitwise("table after forward", mine, table)
    else:
        assert_close("output", as_float64(out, dtype), as_float64(torch_to_numpy(torch, t_out),
                                                                 dtype), dtype)
        assert_close("table after forward", as_float64(mine, dtype),
                     as_float64(t_table_after, dtype), dtype)
        assert changed_rows(table, mine) == changed_rows(table, t_table_after)
        assert changed_rows(table, mine), "the case renormalised nothing"

    t_grad = t_table.grad
    if options.get("sparse"):
        indices, values = grad
        np.testing.assert_array_equal(indices, t_grad._indices().numpy())
        assert_bitwise("sparse grad values", values, torch_to_numpy(torch, t_grad._values()))
    else:
        if dtype == "float32" and not options.get("scale_grad_by_freq"):
            assert_bitwise("dense grad", grad, torch_to_numpy(torch, t_grad))
        else:
            magnitude = np.zeros((n, d))
            flat = ids.reshape(-1)
            scale = 1.0 / np.bincount(flat, minlength=n)[flat] if options.get(
                "scale_grad_by_freq") else np.ones(flat.size)
            np.add.at(magnitude, flat,
                      np.abs(as_float64(grad_output, dtype).reshape(-1, d)) * scale[:, None])
            assert_close("dense grad", as_float64(grad, dtype),
                         as_float64(torch_to_numpy(torch, t_grad), dtype), dtype, magnitude)


# ---- EmbeddingBag ----------------------------------------------------------------------------

BAG_SHAPES = {
    # num_embeddings, dim, bags, most ids in a bag
    "tiny": (40, 5, 6, 5),
    "wide": (1000, 256, 64, 40),
    "many_ids": (50000, 32, 2048, 20),
}
BAG_VARIANTS = {
    "mean_offsets": {"mode": "mean"},
    "sum_2d_psw": {"mode": "sum", "two_d": True, "psw": True},
    "max_empty_bags_padding": {"mode": "max", "padding_idx": 2},
    "sum_last_offset_padding_psw": {"mode": "sum", "include_last_offset": True,
                                    "padding_idx": 0, "psw": True},
    "mean_max_norm_padding_sparse": {"mode": "mean", "max_norm": 1.5, "padding_idx": 1,
                                     "sparse": True},
    "sum_sparse_psw": {"mode": "sum", "sparse": True, "psw": True},
    "max_max_norm_inf": {"mode": "max", "max_norm": 0.8, "norm_type": np.inf},
    "sum_max_norm_p3_2d": {"mode": "sum", "max_norm": 2.0, "norm_type": 3.0, "two_d": True},
    "mean_scale_grad_2d": {"mode": "mean", "scale_grad_by_freq": True, "two_d": True},
    "sum_scale_grad_padding": {"mode": "sum", "scale_grad_by_freq": True, "padding_idx": 4},
}
BAG_CASES = list(itertools.product(["float32", "float16", "bfloat16"], BAG_SHAPES, BAG_VARIANTS))


def bag_bounds(ids, offsets, include_last_offset):
    """[(start, end)] of every bag over the flattened ids."""
    if offsets is None:
        b, length = ids.shape
        return [(i * length, (i + 1) * length) for i in range(b)]
    ends = list(offsets[1:]) if include_last_offset else list(offsets[1:]) + [ids.size]
    starts = list(offsets[:-1]) if include_last_offset else list(offsets)
    return list(zip(starts, ends))


def bag_model(table, ids, bounds, mode, padding_idx, psw, grad_output, scale_grad_by_freq):
    """float64 model of EmbeddingBag with the correct semantics: (output, output magnitude,
    dense grad, grad magnitude)."""
    n, d = table.shape
    flat = ids.reshape(-1)
    weights = np.ones(flat.size) if psw is None else psw.reshape(-1)
    counts = np.bincount(flat, minlength=n)
    out = np.zeros((len(bounds), d))
    out_mag = np.zeros((len(bounds), d))
    grad = np.zeros((n, d))
    grad_mag = np.zeros((n, d))
    for b, (start, end) in enumerate(bounds):
        pos = np.arange(start, end)
        if padding_idx is not None:
            pos = pos[flat[pos] != padding_idx]
        if pos.size == 0:
            continue
        rows = table[flat[pos]]
        freq = 1.0 / counts[flat[pos]] if scale_grad_by_freq else np.ones(pos.size)
        if mode == "max":
            arg = rows.argmax(axis=0)  # the first of equal values, as PyTorch's scan
            out[b] = rows[arg, np.arange(d)]
            out_mag[b] = np.abs(out[b])
            np.add.at(grad, (flat[pos][arg], np.arange(d)), grad_output[b] * freq[arg])
            np.add.at(grad_mag, (flat[pos][arg], np.arange(d)), np.abs(grad_output[b]))
            continue
        scale = weights[pos] if mode == "sum" else np.full(pos.size, 1.0 / pos.size)
        out[b] = (rows * scale[:, None]).sum(axis=0)
        out_mag[b] = (np.abs(rows) * np.abs(scale)[:, None]).sum(axis=0)
        np.add.at(grad, flat[pos], np.outer(scale * freq, grad_output[b]))
        np.add.at(grad_mag, flat[pos], np.outer(np.abs(scale * freq), np.abs(grad_output[b])))
    return out, out_mag, grad, grad_mag


@pytest.mark.parametrize("dtype, shape, variant", BAG_CASES)
def test_embedding_bag_equals_torch(torch, dtype, shape, variant):
    case = BAG_CASES.index((dtype, shape, variant))
    rng = np.random.default_rng(5000 + case)
    n, d, bags, longest = BAG_SHAPES[shape]
    v = dict(BAG_VARIANTS[variant])
    mode, padding_idx = v["mode"], v.get("padding_idx")
    max_norm, norm_type = v.get("max_norm"), v.get("norm_type", 2.0)
    include_last_offset = v.get("include_last_offset", False)
    table, exact = random_table(rng, n, d, dtype, max_norm, norm_type)

    id_range = min(n, bags * longest // 2 + 1)  # rows repeat
    if v.get("two_d"):
        ids = rng.integers(0, id_range, (bags, longest))
        offsets = None
    else:
        sizes = rng.integers(0, longest + 1, bags)  # some bags are empty
        sizes[0] = max(sizes[0], 1)
        ids = rng.integers(0, id_range, int(sizes.sum()))
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        if include_last_offset:
            offsets = np.concatenate([offsets, [ids.size]])
    if padding_idx is not None:
        ids.flat[::4] = padding_idx
    if max_norm is not None:
        ids.flat[1] = row_above(exact, max_norm, norm_type)
    ids = ids.astype(np.int32 if case % 2 else np.int64)
    if offsets is not None:
        offsets = offsets.astype(np.int64 if case % 3 else np.int32)
    psw = None
    if v.get("psw"):
        psw, _ = random_table(rng, 1, ids.size, dtype)
        psw = psw.reshape(ids.shape)
    grad_output, _ = random_table(rng, bags, d, dtype)
    options = {k: v[k] for k in ("mode", "max_norm", "norm_type", "scale_grad_by_freq", "sparse",
                                 "include_last_offset", "padding_idx") if k in v}

    # PyTorch: natively for float32 and float16, in float32 on the same values for bfloat16
    # (1.13 has no bfloat16 EmbeddingBag on CPU).
    tdtype = torch_dtype(torch, dtype) if dtype != "bfloat16" else torch.float32
    t_table = torch.from_numpy(exact.copy()).to(torch_dtype(torch, dtype)).to(tdtype)
    t_table.requires_grad_()
    t_ids = torch.from_numpy(ids)
    t_options = dict(options)
    if max_norm is not None and dtype != "float32":
        torch_renorm(torch, t_table, t_ids, max_norm, norm_type)
        if dtype == "bfloat16":  # the renormalised table, as a bfloat16 table holds it
            with torch.no_grad():
                t_table.copy_(t_table.to(torch.bfloat16).to(torch.float32))
        t_options.pop("max_norm")
    t_psw = None
    if psw is not None:
        t_psw = torch.from_numpy(as_float64(psw, dtype)).to(tdtype).requires_grad_()
    t_out = torch.nn.functional.embedding_bag(
        t_ids, t_table, None if offsets is None else torch.from_numpy(offsets),
        per_sample_weights=t_psw, **t_options)
    t_out.backward(torch.from_numpy(as_float64(grad_output, dtype)).to(tdtype))
    t_table_after = as_float64(torch_to_numpy(torch, t_table), "float32" if dtype == "bfloat16"
                               else dtype)

    # embedkit: the module (with torch inputs every third case) or the functional form.
    mine = table.copy()
    if case % 2 == 0:
        module = nn.EmbeddingBag(n, d, _weight=mine, dtype=dtype, **options)
        wrap = torch.from_numpy if case % 3 == 0 else (lambda a: a)
        out = module(wrap(ids), None if offsets is None else wrap(offsets),
                     None if psw is None else psw)
        result = module.backward(ids, grad_output, offsets, psw)
    else:
        out = F.embedding_bag(ids, mine, offsets, per_sample_weights=psw, dtype=dtype, **options)
        result = F.embedding_bag_backward(ids, mine, grad_output, offsets, per_sample_weights=psw,
                                          dtype=dtype, **options)
    grad, psw_grad = result if psw is not None else (result, None)

    native = dtype in ("float32", "float16")
    bounds = bag_bounds(ids, offsets, include_last_offset)
    g64 = as_float64(grad_output, dtype)
    p64 = None if psw is None else as_float64(psw, dtype)
    model = bag_model(t_table_after, ids, bounds, mode, padding_idx, p64, g64, False)
    own = bag_model(as_float64(mine, dtype), ids, bounds, mode, padding_idx, p64, g64,
                    v.get("scale_grad_by_freq", False))
    t_out64 = as_float64(torch_to_numpy(torch, t_out), "float32" if not native else dtype)

    argmax_after_renorm = mode == "max" and max_norm is not None
    if argmax_after_renorm:
        assert_close("output vs the model on embedkit's table", as_float64(out, dtype), own[0],
                     dtype, own[1])
    elif max_norm is None and mode != "mean" and native:
        assert_bitwise("output", out, torch_to_numpy(torch, t_out))
    else:
        assert_close("output", as_float64(out, dtype), t_out64, dtype, model[1])

    if max_norm is None:
        assert_bitwise("table after forward", mine, table)
    else:
        assert_close("table after forward", as_float64(mine, dtype), t_table_after, dtype)
        assert changed_rows(table, mine) == changed_rows(exact, t_table_after)
        assert changed_rows(table, mine), "the case renormalised nothing"

    t_grad = t_table.grad
    if options.get("sparse"):
        indices, values = grad
        np.testing.assert_array_equal(indices, t_grad._indices().numpy())
        t_values = torch_to_numpy(torch, t_grad._values())
        if dtype == "float32" or (dtype == "float16" and mode == "sum"):
            assert_bitwise("sparse grad values", values, t_values)
        else:
            magnitude = np.abs(as_float64(t_values, "float32" if not native else dtype))
            assert_close("sparse grad values", as_float64(values, dtype),
                         as_float64(t_values, "float32" if not native else dtype), dtype,
                         magnitude)
    elif argmax_after_renorm or v.get("scale_grad_by_freq"):
        # Deliberate differences: the correct gradient, from the model on embedkit's table.
        assert_close("dense grad vs the model", as_float64(grad, dtype), own[2], dtype, own[3])
    else:
        assert_close("dense grad", as_float64(grad, dtype),
                     as_float64(torch_to_numpy(torch, t_grad), "float32" if not native
                                else dtype), dtype, model[3])

    if psw is not None:
        t_psw_grad = as_float64(torch_to_numpy(torch, t_psw.grad), "float32" if not native
                                else dtype)
        rows = as_float64(mine, dtype)[ids.reshape(-1)]
        bag_of = np.concatenate([np.full(e - s, b) for b, (s, e) in enumerate(bounds)]
                                or [np.zeros(0, int)]).astype(int)
        magnitude = (np.abs(rows) * np.abs(g64[bag_of])).sum(axis=1).reshape(ids.shape)
        assert_close("per_sample_weights grad", as_float64(psw_grad, dtype), t_psw_grad, dtype,
                     magnitude)
