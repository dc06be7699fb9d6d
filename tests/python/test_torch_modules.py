"""embedkit.torch.Embedding / EmbeddingBag against torch.nn's, on random inputs.

Forward, dense and sparse gradients, per-sample-weight gradients, padding, every bag mode and
both id dtypes; the weight is shared with embedkit without a copy. Tolerances: forward and
sparse gradients are exact (same float32 operations); a dense bag gradient sums the rows in
input order where PyTorch sums them in sorted order (docs/conformance.md, section 5.1), so it
is compared within float32 rounding.
"""

import numpy as np
import pytest


def _bags(torch, gen, num_embeddings, batch, max_len, include_last_offset, id_dtype):
    lengths = torch.randint(0, max_len + 1, (batch,), generator=gen)
    ids = torch.randint(0, num_embeddings, (int(lengths.sum()),), generator=gen).to(id_dtype)
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)])
    if not include_last_offset:
        offsets = offsets[:-1]
    return ids, offsets.to(id_dtype)


def _pair(torch, cls_embedkit, cls_torch, seed, *args, **kwargs):
    """The same module from embedkit.torch and torch.nn, with the same initial table."""
    torch.manual_seed(seed)
    ours = cls_embedkit(*args, **kwargs)
    torch.manual_seed(seed)
    theirs = cls_torch(*args, **kwargs)
    return ours, theirs


def _dense(grad):
    return grad.to_dense() if grad.is_sparse else grad


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 3, -1])
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_equals_torch(torch, mode, sparse, padding_idx, include_last_offset):
    import embedkit.torch as et

    if mode == "max" and sparse:
        pytest.skip("max mode has no sparse gradient (in PyTorch neither)")
    gen = torch.Generator().manual_seed(hash((mode, sparse, padding_idx)) % 1000)
    for trial, id_dtype in enumerate([torch.int64, torch.int32, torch.int64]):
        n, d = 50, 1 + 7 * trial
        ours, theirs = _pair(torch, et.EmbeddingBag, torch.nn.EmbeddingBag, trial, n, d,
                             mode=mode, sparse=sparse, padding_idx=padding_idx,
                             include_last_offset=include_last_offset)
        assert isinstance(ours, torch.nn.EmbeddingBag)
        assert torch.equal(ours.weight, theirs.weight)  # same draw, padding row zeroed
        ids, offsets = _bags(torch, gen, n, 16, 6, include_last_offset, id_dtype)
        out, ref = ours(ids, offsets), theirs(ids, offsets)
        torch.testing.assert_close(out, ref, rtol=0, atol=0)
        grad_out = torch.randn(out.shape, generator=gen)
        out.backward(grad_out)
        ref.backward(grad_out)
        assert ours.weight.grad.is_sparse == sparse
        if sparse:
            # PyTorch's layout: ids in input order, padding removed, uncoalesced
            assert torch.equal(ours.weight.grad._indices(), theirs.weight.grad._indices())
            torch.testing.assert_close(ours.weight.grad._values(), theirs.weight.grad._values(),
                                       rtol=0, atol=0)
        else:
            torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)


@pytest.mark.parametrize("sparse", [False, True])
def test_per_sample_weights_and_their_gradient_equal_torch(torch, sparse):
    import embedkit.torch as et

    gen = torch.Generator().manual_seed(7)
    ours, theirs = _pair(torch, et.EmbeddingBag, torch.nn.EmbeddingBag, 1, 30, 5, mode="sum",
                         sparse=sparse, padding_idx=0)
    ids, offsets = _bags(torch, gen, 30, 10, 5, False, torch.int64)
    psw = torch.rand(ids.shape, generator=gen)
    psw_ours, psw_theirs = psw.clone().requires_grad_(), psw.clone().requires_grad_()
    out = ours(ids, offsets, per_sample_weights=psw_ours)
    ref = theirs(ids, offsets, per_sample_weights=psw_theirs)
    torch.testing.assert_close(out, ref)
    grad_out = torch.randn(out.shape, generator=gen)
    out.backward(grad_out)
    ref.backward(grad_out)
    torch.testing.assert_close(psw_ours.grad, psw_theirs.grad)
    torch.testing.assert_close(_dense(ours.weight.grad), _dense(theirs.weight.grad))


def test_two_dimensional_ids_equal_torch(torch):
    import embedkit.torch as et

    gen = torch.Generator().manual_seed(3)
    ours, theirs = _pair(torch, et.EmbeddingBag, torch.nn.EmbeddingBag, 2, 40, 8, mode="mean")
    ids = torch.randint(0, 40, (12, 4), generator=gen)
    out, ref = ours(ids), theirs(ids)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    out.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_equals_torch(torch, sparse, padding_idx, scale_grad_by_freq):
    import embedkit.torch as et

    if sparse and scale_grad_by_freq:
        pytest.skip("embedkit refuses sparse with scale_grad_by_freq (a ValueError, tested below)")
    gen = torch.Generator().manual_seed(11)
    for trial, shape in enumerate([(7,), (3, 5), (2, 0, 4), ()]):
        ours, theirs = _pair(torch, et.Embedding, torch.nn.Embedding, trial, 20, 6,
                             padding_idx=padding_idx, sparse=sparse,
                             scale_grad_by_freq=scale_grad_by_freq)
        assert isinstance(ours, torch.nn.Embedding)
        ids = torch.randint(0, 20, shape, generator=gen)
        out, ref = ours(ids), theirs(ids)
        torch.testing.assert_close(out, ref, rtol=0, atol=0)
        grad_out = torch.randn(out.shape, generator=gen)
        out.backward(grad_out)
        assert ours.weight.grad.is_sparse == sparse
        if sparse and padding_idx is not None and shape == ():
            # PyTorch 1.13 fails here ("too many indices for tensor of dimension 0": its sparse
            # backward masks the padding out of 0-dim ids); the gradient is the one row's.
            expected = torch.zeros(20, 6)
            if int(ids) != padding_idx:
                expected[int(ids)] = grad_out
            torch.testing.assert_close(_dense(ours.weight.grad), expected)
            continue
        ref.backward(grad_out)
        torch.testing.assert_close(_dense(ours.weight.grad), _dense(theirs.weight.grad))


def test_max_norm_renormalises_the_rows_in_place_as_torch(torch):
    import embedkit.torch as et

    ours, theirs = _pair(torch, et.Embedding, torch.nn.Embedding, 5, 10, 4, max_norm=1.0)
    ids = torch.tensor([1, 3, 3, 7])
    torch.testing.assert_close(ours(ids), theirs(ids))
    torch.testing.assert_close(ours.weight, theirs.weight)
    bag_ours, bag_theirs = _pair(torch, et.EmbeddingBag, torch.nn.EmbeddingBag, 5, 10, 4,
                                 max_norm=0.5, norm_type=1.0)
    torch.testing.assert_close(bag_ours(ids.view(2, 2)), bag_theirs(ids.view(2, 2)))
    torch.testing.assert_close(bag_ours.weight, bag_theirs.weight)


def test_from_pretrained_shares_the_tensor_and_freezes(torch):
    import embedkit.torch as et

    table = torch.randn(6, 3)
    bag = et.EmbeddingBag.from_pretrained(table, mode="sum")
    assert type(bag) is et.EmbeddingBag
    assert bag.weight.data_ptr() == table.data_ptr() and not bag.weight.requires_grad
    ids = torch.tensor([[0, 5]])
    torch.testing.assert_close(bag(ids), table[0:1] + table[5:6])
    emb = et.Embedding.from_pretrained(table, freeze=False)
    assert emb.weight.requires_grad and emb.weight.data_ptr() == table.data_ptr()


def test_weight_is_shared_with_embedkit_without_a_copy(torch, monkeypatch):
    """The array embedkit reads is the Parameter's memory, and writes go both ways."""
    import embedkit.torch as et
    from embedkit import _embedkit

    bag = et.EmbeddingBag(8, 4, mode="sum")
    seen = []
    real = _embedkit.embedding_bag

    def spy(ids, weight, *args, **kwargs):
        seen.append(weight)
        return real(ids, weight, *args, **kwargs)

    monkeypatch.setattr(_embedkit, "embedding_bag", spy)
    with torch.no_grad():
        bag.weight[2] = 7.0  # a write through torch is read by embedkit
    out = bag(torch.tensor([[2]]))
    assert torch.equal(out, torch.full((1, 4), 7.0))
    array = seen[0]
    assert array.__array_interface__["data"][0] == bag.weight.data_ptr()
    array[3] = -1.0  # a write through embedkit's array is seen by torch
    assert torch.equal(bag.weight[3].detach(), torch.full((4,), -1.0))


def test_fused_table_shares_the_parameter_memory(torch):
    import embedkit.torch as et

    bag = et.FusedEmbeddingBag(8, 4, mode="sum", optimizer="sgd", optimizer_kwargs={"lr": 0.1})
    table = bag.table.weight  # embedkit's table, a NumPy array over its memory
    assert table.__array_interface__["data"][0] == bag.weight.data_ptr()
    table[1] = 5.0
    assert torch.equal(bag.weight[1].detach(), torch.full((4,), 5.0))
    with torch.no_grad():
        bag.weight[2] = 3.0
    assert np.array_equal(table[2], np.full(4, 3.0, dtype=np.float32))


def test_output_is_a_tensor_over_embedkits_buffer(torch):
    import embedkit.torch as et
    from embedkit.torch import functional as F

    out = et.EmbeddingBag(8, 4)(torch.tensor([[1, 2]]))
    # torch.from_numpy over embedkit's array: the tensor's memory is not torch's allocation
    assert F.as_array(out).__array_interface__["data"][0] == out.data_ptr()


def _vm_flags(address):
    """The VmFlags line of the mapping holding `address` (/proc/self/smaps), or ""."""
    inside = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split(" ", 1)[0]
            if "-" in head and not line.startswith("VmFlags"):
                try:
                    lo, hi = (int(x, 16) for x in head.split("-"))
                except ValueError:
                    continue
                inside = lo <= address < hi
            elif inside and line.startswith("VmFlags:"):
                return line
    return ""


@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16"])
def test_large_tables_lie_in_embedkits_memory_on_huge_pages(torch, dtype_name):
    """A module that draws its own table puts it in embedkit's memory (huge pages from 32 MiB
    up: a random row costs no page walk), with torch's numbers; small ones likewise, a given
    table stays the caller's."""
    import os

    import embedkit.torch as et

    dtype = getattr(torch, dtype_name)
    rows = (32 << 20) // (128 * torch.tensor([], dtype=dtype).element_size())
    for cls_ours, cls_torch, kwargs in [
            (et.EmbeddingBag, torch.nn.EmbeddingBag, dict(mode="sum", padding_idx=5)),
            (et.Embedding, torch.nn.Embedding, dict(padding_idx=-2))]:
        ours, theirs = _pair(torch, cls_ours, cls_torch, 3, rows, 128, dtype=dtype, **kwargs)
        assert type(ours.weight) is torch.nn.Parameter and ours.weight.requires_grad
        assert ours.weight.dtype == dtype
        assert torch.equal(ours.weight, theirs.weight)  # the same draw, padding row zeroed
        assert ours.weight.data_ptr() % (2 << 20) == 0
        if os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled"):
            assert " hg" in _vm_flags(ours.weight.data_ptr()), _vm_flags(ours.weight.data_ptr())
    from embedkit import _embedkit

    with pytest.raises(ValueError, match="must be >= 0"):
        _embedkit.empty_table(-1, 4)
    with pytest.raises(TypeError, match="dtype must be"):
        _embedkit.empty_table(10, 4, "int8")
    small = et.EmbeddingBag(10, 4, dtype=dtype)
    assert small.weight.shape == (10, 4) and small.weight.dtype == dtype
    given = torch.zeros(10, 4, dtype=dtype)
    assert et.EmbeddingBag(10, 4, _weight=given, dtype=dtype).weight.data_ptr() == \
        given.data_ptr()
    if dtype == torch.float32:
        fused = et.FusedEmbeddingBag(rows, 128, mode="sum", optimizer="sgd",
                                     optimizer_kwargs={"lr": 0.5})
        assert fused.weight.data_ptr() % (2 << 20) == 0
        before = fused.weight[7].detach().clone()
        fused(torch.tensor([[7, 7]])).sum().backward()
        torch.testing.assert_close(fused.weight[7].detach(), before - 1.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_sixteen_bit_tables(torch, dtype_name):
    import embedkit.torch as et

    dtype = getattr(torch, dtype_name)
    torch.manual_seed(0)
    ours = et.EmbeddingBag(20, 8, mode="sum", dtype=dtype)
    ids = torch.tensor([[1, 2, 3], [4, 4, 0]])
    expected = ours.weight.float()[ids].sum(1).to(dtype)  # float32 accumulation, one rounding
    out = ours(ids)
    assert out.dtype == dtype
    torch.testing.assert_close(out, expected)
    out.float().sum().backward()
    assert ours.weight.grad.dtype == dtype
    emb = et.Embedding(20, 8, dtype=dtype)
    torch.testing.assert_close(emb(ids), emb.weight[ids])


def test_functional_forms_equal_torchs(torch):
    import embedkit.torch as et

    gen = torch.Generator().manual_seed(5)
    weight = torch.randn(15, 6, generator=gen, requires_grad=True)
    ids = torch.randint(0, 15, (9,), generator=gen)
    offsets = torch.tensor([0, 2, 2, 7])
    out = et.embedding_bag(ids, weight, offsets, mode="sum")
    ref = torch.nn.functional.embedding_bag(ids, weight, offsets, mode="sum")
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    torch.testing.assert_close(et.embedding(ids, weight),
                               torch.nn.functional.embedding(ids, weight))


def test_errors_are_pythons_and_change_nothing(torch):
    import embedkit.torch as et

    bag = et.EmbeddingBag(10, 4, mode="sum", max_norm=0.1)
    before = bag.weight.detach().clone()
    with pytest.raises(IndexError, match="10"):
        bag(torch.tensor([[1, 10]]))
    with pytest.raises(TypeError):
        bag(torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError):
        bag(torch.tensor([1, 2, 3]), torch.tensor([1, 2]))  # offsets[0] != 0
    with pytest.raises(ValueError):
        bag(torch.tensor([1, 2, 3]), torch.tensor([0, 2, 1]))  # decreasing offsets
    assert torch.equal(bag.weight.detach(), before)
    emb = et.Embedding(10, 4, sparse=True, scale_grad_by_freq=True)
    with pytest.raises(ValueError):
        emb(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="cpu|CPU"):
        et.EmbeddingBag(10, 4, device="meta")


def test_state_dict_is_torchs(torch):
    import embedkit.torch as et

    ours = et.EmbeddingBag(10, 4)
    theirs = torch.nn.EmbeddingBag(10, 4)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours.load_state_dict(theirs.state_dict())
    ids = torch.tensor([[1, 2]])
    torch.testing.assert_close(ours(ids), theirs(ids))


def test_help_texts_and_stubs_cover_the_public_api(torch):
    import pathlib

    import embedkit.torch as et

    package = pathlib.Path(et.__file__).parent
    stubs = "".join(p.read_text() for p in package.glob("*.pyi"))
    for name in et.__all__:
        obj = getattr(et, name)
        assert obj.__doc__ and len(obj.__doc__) > 200, name
        assert name in stubs, name
    assert "optimizer_kwargs" in et.FusedEmbeddingBag.__doc__
    assert "import embedkit.torch" in et.__doc__  # the usage example


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_large_bags_reach_the_threaded_kernels_and_equal_torch(torch, mode):
    import embedkit.torch as et

    gen = torch.Generator().manual_seed(21)
    sparse = mode != "max"
    ours, theirs = _pair(torch, et.EmbeddingBag, torch.nn.EmbeddingBag, 8, 10_000, 128,
                         mode=mode, sparse=sparse, padding_idx=7)
    ids, offsets = _bags(torch, gen, 10_000, 1000, 40, False, torch.int64)
    out, ref = ours(ids, offsets), theirs(ids, offsets)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    grad_out = torch.randn(out.shape, generator=gen)
    out.backward(grad_out)
    ref.backward(grad_out)
    if sparse:
        assert torch.equal(ours.weight.grad._indices(), theirs.weight.grad._indices())
        torch.testing.assert_close(ours.weight.grad._values(), theirs.weight.grad._values(),
                                   rtol=0, atol=0)
    else:
        torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)
