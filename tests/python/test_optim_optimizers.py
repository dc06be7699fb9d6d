"""embedkit.optim: torch.optim's arguments and results, state dicts, fused_backward_step."""

import numpy as np
import pytest

import embedkit
from embedkit import _embedkit


def _table(rows=6, dim=3, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)


def test_defaults_are_torch_optims():
    w = _table()
    assert embedkit.optim.Adagrad([w]).defaults == dict(
        lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
        maximize=False)
    assert embedkit.optim.SparseAdam([w]).defaults == dict(lr=1e-3, betas=(0.9, 0.999),
                                                           eps=1e-8, maximize=False)
    assert embedkit.optim.SGD([w], lr=0.1).defaults["momentum"] == 0.0
    assert embedkit.optim.RowWiseAdagrad([w]).defaults == dict(lr=1e-2, eps=1e-8,
                                                               weight_decay=0.0,
                                                               weight_decay_mode="l2")
    assert embedkit.optim.LazyAdam([w]).defaults["betas"] == (0.9, 0.999)
    with pytest.raises(TypeError):
        embedkit.optim.SGD([w])  # lr is required, as in torch.optim.SGD


def test_parameter_names():
    w, v = _table(), _table(seed=1)
    emb = embedkit.optim.Adagrad([w, v])
    assert emb.param_names == ["0", "1"]
    assert embedkit.optim.Adagrad({"user": w, "item": v}).param_names == ["user", "item"]
    assert embedkit.optim.Adagrad([("a.weight", w)]).param_names == ["a.weight"]
    with pytest.raises(ValueError, match="twice|share"):
        embedkit.optim.Adagrad([("x", w), ("x", v)])
    with pytest.raises(ValueError, match="empty"):
        embedkit.optim.Adagrad([])
    with pytest.raises(TypeError, match="list"):
        embedkit.optim.Adagrad(w)  # one table, not wrapped in a list


def test_bad_tables_are_refused():
    with pytest.raises(TypeError, match="float32"):
        embedkit.optim.Adagrad([np.zeros((3, 2), dtype=np.float16)])
    with pytest.raises(ValueError, match="contiguous"):
        embedkit.optim.Adagrad([np.zeros((3, 4), dtype=np.float32)[:, ::2]])
    frozen = np.zeros((3, 2), dtype=np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        embedkit.optim.Adagrad([frozen])
    with pytest.raises(ValueError):
        embedkit.optim.Adagrad([_table()], lr=-1.0)
    with pytest.raises(ValueError, match="l2"):
        embedkit.optim.RowWiseAdagrad([_table()], weight_decay_mode="l1")


@pytest.mark.parametrize("name,kwargs,sparse", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), False),
    ("SGD", dict(lr=0.1), True),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.01), False),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5), True),
    ("SparseAdam", dict(lr=0.01, betas=(0.8, 0.99)), True),
])
def test_step_reads_torch_grads_as_torch_optim(torch, name, kwargs, sparse):
    gen = torch.Generator().manual_seed(0)
    ours = torch.randn(8, 4, generator=gen, requires_grad=True)
    theirs = ours.detach().clone().requires_grad_()
    opt = getattr(embedkit.optim, name)([ours], **kwargs)
    ref = getattr(torch.optim, name)([theirs], **kwargs)
    for _ in range(4):
        ids = torch.randint(0, 8, (5,), generator=gen)
        grad_out = torch.randn(5, 4, generator=gen)
        for p in (ours, theirs):
            (torch.nn.functional.embedding(ids, p, sparse=sparse) * grad_out).sum().backward()
        opt.step()
        ref.step()
        opt.zero_grad()
        ref.zero_grad()
        assert ours.grad is None
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_step_with_explicit_gradients_dense_and_row_sparse():
    w = _table()
    dense_w, sparse_w = w.copy(), w.copy()
    dense = embedkit.optim.Adagrad([dense_w], lr=0.5)
    sparse = embedkit.optim.Adagrad([sparse_w], lr=0.5)
    values = np.ones((2, 3), dtype=np.float32)
    grad = np.zeros_like(w)
    grad[4] = 2.0  # row 4 twice: coalesced to 2
    dense.step([grad])
    sparse.step([(np.array([4, 4]), values)])
    np.testing.assert_array_equal(dense_w, sparse_w)
    assert (dense_w[4] != w[4]).all() and (np.delete(dense_w, 4, 0) == np.delete(w, 4, 0)).all()
    sparse.step([None])  # no gradient: nothing moves
    np.testing.assert_array_equal(dense_w, sparse_w)
    with pytest.raises(ValueError, match="1 parameters"):
        sparse.step([grad, grad])
    with pytest.raises(ValueError):
        sparse.step([np.zeros((2, 2), dtype=np.float32)])  # wrong shape: nothing changes
    np.testing.assert_array_equal(dense_w, sparse_w)
    with pytest.raises(ValueError, match="grads"):
        sparse.step()  # arrays have no .grad


def test_state_dict_is_a_dict_of_arrays_that_round_trips():
    w = _table()
    opt = embedkit.optim.LazyAdam([w], lr=0.1)
    assert opt.state_dict() == {}  # no state before the first step, as torch.optim
    opt.step([(np.array([1, 3]), np.ones((2, 3), dtype=np.float32))])
    state = opt.state_dict()
    assert sorted(state) == ["0.exp_avg", "0.exp_avg_sq", "0.step"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    np.testing.assert_array_equal(state["0.step"], [0, 1, 0, 1, 0, 0])
    snapshot = {k: v.copy() for k, v in state.items()}
    opt.step([(np.array([1]), np.ones((1, 3), dtype=np.float32))])
    np.testing.assert_array_equal(state["0.step"], snapshot["0.step"])  # a copy, not a view
    other_w = w.copy()
    other = embedkit.optim.LazyAdam([other_w], lr=0.1)
    other.load_state_dict(opt.state_dict())
    grad = [(np.array([1, 2]), np.full((2, 3), 0.5, dtype=np.float32))]
    opt.step(grad)
    other.step(grad)
    np.testing.assert_array_equal(w, other_w)
    for k, v in opt.state_dict().items():
        np.testing.assert_array_equal(v, other.state_dict()[k])


def test_load_state_dict_checks_everything_first():
    opt = embedkit.optim.Adagrad([_table()], lr=0.1)
    opt.step([np.ones((6, 3), dtype=np.float32)])
    before = opt.state_dict()
    bad_shape = dict(before, **{"0.sum": np.zeros((2, 2), dtype=np.float32)})
    with pytest.raises(ValueError):
        opt.load_state_dict(bad_shape)
    with pytest.raises(ValueError):
        opt.load_state_dict(dict(before, **{"0.momentum": np.zeros(3, dtype=np.float32)}))
    with pytest.raises(TypeError):
        opt.load_state_dict(dict(before, **{"0.sum": np.zeros((6, 3), dtype=np.int32)}))
    for k, v in opt.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def _bag_pair(mode="sum", padding_idx=None):
    w = _table(50, 8, seed=3)
    a = _embedkit.EmbeddingBag(50, 8, mode=mode, weight=w.copy(), padding_idx=padding_idx)
    b = _embedkit.EmbeddingBag(50, 8, mode=mode, weight=w.copy(), padding_idx=padding_idx)
    return a, b


@pytest.mark.parametrize("cls,kwargs", [
    (embedkit.optim.SGD, dict(lr=0.3)),
    (embedkit.optim.Adagrad, dict(lr=0.3, lr_decay=0.1)),
    (embedkit.optim.RowWiseAdagrad, dict(lr=0.3)),
    (embedkit.optim.SparseAdam, dict(lr=0.01)),
    (embedkit.optim.LazyAdam, dict(lr=0.01)),
])
def test_fused_backward_step_equals_backward_then_step(cls, kwargs):
    fused_bag, plain_bag = _bag_pair(mode="mean", padding_idx=0)
    fused = cls([fused_bag], **kwargs)
    plain = cls([plain_bag], **kwargs)
    rng = np.random.default_rng(5)
    for _ in range(3):
        ids = rng.integers(0, 50, 40)
        offsets = np.sort(rng.integers(0, 41, 10))
        offsets[0] = 0
        grad_out = rng.standard_normal((10, 8)).astype(np.float32)
        fused_bag.forward(ids, offsets)
        embedkit.optim.fused_backward_step(fused_bag, ids, offsets, grad_out, fused)
        # backward's row sums (input order), coalesced: the fused step's contract
        dense, _ = plain_bag.backward(ids, offsets, grad_out)
        rows = np.unique(ids[ids != 0])
        plain.step([(rows, dense[rows])])
        np.testing.assert_array_equal(fused_bag.weight, plain_bag.weight)  # bit for bit


def test_fused_backward_step_for_embedding_and_errors():
    w = _table(20, 4)
    emb = _embedkit.Embedding(20, 4, weight=w)
    opt = embedkit.optim.Adagrad([emb], lr=0.1)
    assert opt.param_names == ["weight"]
    ids = np.array([[1, 2], [2, 3]])
    before = w.copy()
    embedkit.optim.fused_backward_step(emb, ids, np.ones((2, 2, 4), dtype=np.float32), opt)
    changed = (w != before).any(1)
    assert changed[[1, 2, 3]].all() and changed.sum() == 3
    before = w.copy()
    with pytest.raises(IndexError):
        embedkit.optim.fused_backward_step(emb, np.array([1, 20]),
                                           np.ones((2, 4), dtype=np.float32), opt)
    with pytest.raises(ValueError):
        embedkit.optim.fused_backward_step(emb, ids, np.ones((2, 4), dtype=np.float32), opt)
    other = embedkit.optim.Adagrad([_table(20, 4)], lr=0.1)  # not the module's table
    with pytest.raises(ValueError):
        embedkit.optim.fused_backward_step(emb, ids, np.ones((2, 2, 4), dtype=np.float32), other)
    np.testing.assert_array_equal(w, before)
    with pytest.raises(TypeError, match="Embedding"):
        embedkit.optim.fused_backward_step(object(), ids, None, opt)


def test_embedkit_nn_modules_are_parameters_and_fuse():
    emb = embedkit.nn.EmbeddingBag(100, 8, mode="sum", padding_idx=0)
    opt = embedkit.optim.SparseAdam([emb], lr=0.1)
    assert opt.param_names == ["weight"]
    ids = np.array([[0, 5], [6, 5]])
    before = emb.weight.copy()
    out = emb(ids)
    embedkit.optim.fused_backward_step(emb, ids, None, np.ones_like(out), opt)
    changed = (emb.weight != before).any(1)
    assert list(np.nonzero(changed)[0]) == [5, 6]  # the padding row 0 never moves


def test_help_texts_and_stub_cover_the_public_api():
    import pathlib

    stub = (pathlib.Path(embedkit.optim.__file__).parent / "optim.pyi").read_text()
    for name in embedkit.optim.__all__:
        assert getattr(embedkit.optim, name).__doc__, name
        assert f"class {name}" in stub or f"def {name}(" in stub, name
    assert "lr_decay" in embedkit.optim.Adagrad.__doc__
    assert "state" in embedkit.optim.Optimizer.state_dict.__doc__


def test_the_optimizer_keeps_its_tables_alive():
    import gc
    import weakref

    class Table(np.ndarray):  # an ndarray that can be watched with a weak reference
        pass

    table = np.zeros((4, 2), dtype=np.float32).view(Table)
    watch = weakref.ref(table)
    address = table.__array_interface__["data"][0]
    opt = embedkit.optim.SGD([table], lr=1.0)
    del table
    gc.collect()
    assert watch() is not None  # still referenced by the optimizer
    opt.step([np.ones((4, 2), dtype=np.float32)])
    assert watch().__array_interface__["data"][0] == address
    np.testing.assert_array_equal(watch(), -np.ones((4, 2), dtype=np.float32))
    del opt
    gc.collect()
    assert watch() is None  # released with the optimizer


def test_an_embedkit_optimizer_steps_a_torch_module_from_its_grad(torch):
    import embedkit.torch as et

    torch.manual_seed(0)
    ours = et.EmbeddingBag(40, 4, mode="sum", sparse=True, padding_idx=0)
    torch.manual_seed(0)
    theirs = torch.nn.EmbeddingBag(40, 4, mode="sum", sparse=True, padding_idx=0)
    opt = embedkit.optim.SparseAdam([ours], lr=0.05)  # the module's weight, "weight"
    ref = torch.optim.SparseAdam(theirs.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(1)
    for _ in range(3):
        ids = torch.randint(0, 40, (8, 3), generator=gen)
        for module, optimizer in ((ours, opt), (theirs, ref)):
            module(ids).pow(2).sum().backward()
            optimizer.step()
            optimizer.zero_grad()
        torch.testing.assert_close(ours.weight, theirs.weight, rtol=1e-5, atol=1e-6)


def test_repr_names_the_parameters_and_options():
    opt = embedkit.optim.SparseAdam({"user": _table()}, lr=0.5)
    assert repr(opt) == ("SparseAdam(params=['user'], lr=0.5, betas=(0.9, 0.999), eps=1e-08, "
                         "maximize=False)")
