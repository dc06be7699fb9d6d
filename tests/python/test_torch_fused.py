"""embedkit.torch's fused modules against PyTorch's unfused training step.

The reference step is torch.nn.EmbeddingBag(sparse=True) (or Embedding), its sparse gradient,
then the same torch.optim optimizer (row-wise Adagrad and LazyAdam, which torch.optim lacks,
against a few lines of torch written here from their formulas). embedkit sums each row's
gradient in input order where PyTorch's coalesce sums it in sorted order, so the tables are
compared within float32 rounding (docs/conformance.md, sections 5.1 and 7).
"""

import copy
import io
import threading
import time

import numpy as np
import pytest

TOL = dict(rtol=1e-5, atol=1e-6)


def _bags(torch, gen, num_embeddings, batch=12, max_len=5):
    lengths = torch.randint(0, max_len + 1, (batch,), generator=gen)
    ids = torch.randint(0, num_embeddings, (int(lengths.sum()),), generator=gen)
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)[:-1]])
    return ids, offsets


def _twins(torch, fused_kwargs, seed=0, n=40, d=6, mode="sum", padding_idx=None):
    """A fused embedkit bag and a torch bag (sparse=True) with the same initial table."""
    import embedkit.torch as et

    torch.manual_seed(seed)
    ours = et.FusedEmbeddingBag(n, d, mode=mode, padding_idx=padding_idx, **fused_kwargs)
    torch.manual_seed(seed)
    theirs = torch.nn.EmbeddingBag(n, d, mode=mode, padding_idx=padding_idx, sparse=True)
    assert torch.equal(ours.weight, theirs.weight)
    return ours, theirs


def _train(torch, ours, theirs, torch_step, steps, seed=1):
    """`steps` steps on both sides with the same bags and output gradients."""
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        ids, offsets = _bags(torch, gen, ours.num_embeddings)
        grad_out = torch.randn(len(offsets), ours.embedding_dim, generator=gen)
        (ours(ids, offsets) * grad_out).sum().backward()
        (theirs(ids, offsets) * grad_out).sum().backward()
        torch_step(theirs)
        assert ours.weight.grad is None  # no gradient was ever built
        torch.testing.assert_close(ours.weight, theirs.weight, **TOL)


def _torch_optimizer_step(optimizer):
    def step(module):
        optimizer.step()
        optimizer.zero_grad()
    return step


CASES = [
    ("SGD", dict(lr=0.5)),
    ("Adagrad", dict(lr=0.3, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-6)),
    ("SparseAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6)),
]


@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("mode,padding_idx", [("sum", None), ("mean", 0), ("sum", 3)])
@pytest.mark.parametrize("steps", [1, 6])
def test_fused_steps_equal_torch_sparse_gradient_then_optimizer(torch, name, kwargs, mode,
                                                                  padding_idx, steps):
    cls = getattr(torch.optim, name)
    # the torch.optim class itself names the optimizer, with torch.optim's arguments
    ours, theirs = _twins(torch, dict(optimizer=cls, optimizer_kwargs=kwargs), mode=mode,
                          padding_idx=padding_idx)
    _train(torch, ours, theirs, _torch_optimizer_step(cls(theirs.parameters(), **kwargs)), steps)


def test_optimizer_names_and_classes_give_the_same_training(torch):
    import embedkit
    import embedkit.torch as et

    results = []
    for spec in ["adagrad", "exact_adagrad", embedkit.optim.Adagrad, torch.optim.Adagrad,
                 lambda params: embedkit.optim.Adagrad(params, lr=0.2)]:
        torch.manual_seed(0)
        kwargs = None if callable(spec) and not isinstance(spec, type) else {"lr": 0.2}
        bag = et.FusedEmbeddingBag(20, 4, mode="sum", optimizer=spec, optimizer_kwargs=kwargs)
        assert isinstance(bag.optimizer, embedkit.optim.Adagrad)
        bag(torch.tensor([[1, 2, 2]])).sum().backward()
        results.append(bag.weight.detach().clone())
    for r in results[1:]:
        assert torch.equal(r, results[0])


def _rowwise_adagrad_reference(lr, eps):
    """FBGEMM's exact row-wise Adagrad in torch: one accumulator per row."""
    import torch

    state = {}

    def step(module):
        grad = module.weight.grad.coalesce()
        rows, values = grad.indices()[0], grad.values()
        acc = state.setdefault("sum", module.weight.new_zeros(module.weight.shape[0]))
        acc[rows] += (values * values).mean(1)
        multiplier = lr / (acc[rows].sqrt() + eps)
        with torch.no_grad():
            module.weight[rows] -= values * multiplier[:, None]
        module.weight.grad = None
    return step


def test_rowwise_adagrad_equals_its_formula(torch):
    ours, theirs = _twins(torch, dict(optimizer="rowwise_adagrad",
                                      optimizer_kwargs={"lr": 0.2, "eps": 1e-8}), padding_idx=1)
    _train(torch, ours, theirs, _rowwise_adagrad_reference(0.2, 1e-8), 5)
    state = ours.state_dict()["_extra_state"]
    assert state["optimizer"] == "RowWiseAdagrad"
    assert state["state"]["weight.sum"].shape == (40,)  # one accumulator per row


def _lazy_adam_reference(lr, beta1, beta2, eps):
    """torch.optim.Adam's update applied row by row, each row with its own step count."""
    import torch

    state = {}

    def step(module):
        grad = module.weight.grad.coalesce()
        rows, g = grad.indices()[0], grad.values()
        w = module.weight
        m = state.setdefault("m", torch.zeros_like(w))
        v = state.setdefault("v", torch.zeros_like(w))
        t = state.setdefault("t", torch.zeros(w.shape[0], dtype=torch.int64))
        t[rows] += 1
        m[rows] = m[rows] * beta1 + g * (1 - beta1)
        v[rows] = v[rows] * beta2 + g * g * (1 - beta2)
        tr = t[rows].double()
        bias1 = (1 - beta1 ** tr).float()[:, None]
        bias2_sqrt = (1 - beta2 ** tr).sqrt().float()[:, None]
        with torch.no_grad():
            w[rows] -= (lr / bias1) * m[rows] / (v[rows].sqrt() / bias2_sqrt + eps)
        module.weight.grad = None
    return step


def test_lazy_adam_equals_adam_row_by_row(torch):
    ours, theirs = _twins(torch, dict(optimizer="lazy_adam", optimizer_kwargs={"lr": 0.01}))
    _train(torch, ours, theirs, _lazy_adam_reference(0.01, 0.9, 0.999, 1e-8), 6)


@pytest.mark.parametrize("name,kwargs", CASES[:2])
def test_fused_embedding_equals_torch(torch, name, kwargs):
    import embedkit.torch as et

    cls = getattr(torch.optim, name)
    torch.manual_seed(4)
    ours = et.FusedEmbedding(30, 5, padding_idx=2, optimizer=cls, optimizer_kwargs=kwargs)
    torch.manual_seed(4)
    theirs = torch.nn.Embedding(30, 5, padding_idx=2, sparse=True)
    opt = cls(theirs.parameters(), **kwargs)
    gen = torch.Generator().manual_seed(9)
    for _ in range(4):
        ids = torch.randint(0, 30, (6, 3), generator=gen)
        grad_out = torch.randn(6, 3, 5, generator=gen)
        (ours(ids) * grad_out).sum().backward()
        (theirs(ids) * grad_out).sum().backward()
        opt.step()
        opt.zero_grad()
        assert ours.weight.grad is None
        torch.testing.assert_close(ours.weight, theirs.weight, **TOL)


def test_per_sample_weights_get_their_gradient(torch):
    ours, theirs = _twins(torch, dict(optimizer="sgd", optimizer_kwargs={"lr": 0.1}))
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    ids, offsets = torch.tensor([1, 2, 3, 2, 5]), torch.tensor([0, 2])
    psw = torch.rand(5)
    p_ours, p_theirs = psw.clone().requires_grad_(), psw.clone().requires_grad_()
    ours(ids, offsets, p_ours).pow(2).sum().backward()
    theirs(ids, offsets, p_theirs).pow(2).sum().backward()
    opt.step()
    torch.testing.assert_close(p_ours.grad, p_theirs.grad)
    torch.testing.assert_close(ours.weight, theirs.weight, **TOL)


@pytest.mark.parametrize("optimizer,kwargs", [("adagrad", {"lr": 0.1}),
                                              ("sparse_adam", {"lr": 0.01}),
                                              ("lazy_adam", {"lr": 0.01}),
                                              ("rowwise_adagrad", {"lr": 0.1})])
def test_state_dict_round_trip_continues_training_identically(torch, optimizer, kwargs):
    import embedkit.torch as et

    def make():
        return et.FusedEmbeddingBag(50, 8, mode="mean", optimizer=optimizer,
                                    optimizer_kwargs=kwargs)

    def steps(module, seed, count=3):
        gen = torch.Generator().manual_seed(seed)
        for _ in range(count):
            ids, offsets = _bags(torch, gen, 50)
            module(ids, offsets).pow(2).sum().backward()

    original = make()
    steps(original, 1)
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    snapshot = copy.deepcopy(original.state_dict())
    assert set(snapshot) == {"weight", "_extra_state"}
    restored = make()
    buffer.seek(0)
    restored.load_state_dict(torch.load(buffer))
    assert torch.equal(restored.weight, original.weight)
    steps(original, 2)
    steps(restored, 2)
    assert torch.equal(restored.weight, original.weight)  # bit for bit, moments included
    # the snapshot did not move with the training
    assert not torch.equal(snapshot["weight"], original.weight)
    restored.load_state_dict(snapshot)
    steps(restored, 2)
    assert torch.equal(restored.weight, original.weight)


def test_load_state_dict_of_another_optimizer_is_refused(torch):
    import embedkit.torch as et

    adagrad = et.FusedEmbeddingBag(10, 4, optimizer="adagrad")
    sgd = et.FusedEmbeddingBag(10, 4, optimizer="sgd", optimizer_kwargs={"lr": 0.1})
    with pytest.raises(ValueError, match="Adagrad"):
        sgd.load_state_dict(adagrad.state_dict())
    with pytest.raises(RuntimeError, match="_extra_state"):  # strict: the state is missing
        adagrad.load_state_dict({"weight": adagrad.weight.detach().clone()})


@pytest.mark.parametrize("damage", ["state shape", "state value", "weight shape", "state missing"])
def test_a_load_state_dict_that_fails_changes_neither_weight_nor_state(torch, damage):
    import embedkit.torch as et

    def trained(seed):
        torch.manual_seed(seed)
        bag = et.FusedEmbeddingBag(10, 4, mode="sum", optimizer="adagrad",
                                   optimizer_kwargs={"lr": 0.1})
        bag(torch.tensor([[1, 2], [3, seed]])).sum().backward()
        return bag

    module, saved = trained(4), trained(5).state_dict()
    weight = module.weight.detach().clone()
    state = module.optimizer.state_dict()
    extra = {"optimizer": saved["_extra_state"]["optimizer"],
             "state": dict(saved["_extra_state"]["state"])}
    bad = {"weight": saved["weight"], "_extra_state": extra}
    if damage == "state shape":
        extra["state"]["weight.sum"] = torch.zeros(3, 3)
    elif damage == "state value":
        extra["state"]["weight.step"] = torch.tensor(-1.0)
    elif damage == "weight shape":
        bad["weight"] = torch.zeros(11, 4)
    else:
        del bad["_extra_state"]
    with pytest.raises((ValueError, RuntimeError)):
        module.load_state_dict(bad)
    assert torch.equal(module.weight.detach(), weight)
    after = module.optimizer.state_dict()
    assert set(after) == set(state)
    for name, value in state.items():
        np.testing.assert_array_equal(after[name], value)


def test_dense_optimizer_of_the_model_skips_the_fused_table(torch):
    import embedkit.torch as et

    torch.manual_seed(0)
    bag = et.FusedEmbeddingBag(100, 8, mode="sum", optimizer="sgd", optimizer_kwargs={"lr": 0.1})
    model = torch.nn.Sequential(bag, torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)  # includes bag.weight, with grad None
    ids = torch.tensor([[1, 2], [3, 4]])
    before = bag.weight.detach().clone()
    model(ids).sum().backward()
    opt.step()
    changed = (bag.weight.detach() != before).any(1)
    assert changed[[1, 2, 3, 4]].all() and not changed[5:].any() and not changed[0]
    assert bag.weight.grad is None and model[1].weight.grad is not None


def test_no_grad_forward_only_looks_up(torch):
    import embedkit.torch as et

    bag = et.FusedEmbeddingBag(10, 4, optimizer="adagrad")
    before = bag.weight.detach().clone()
    with torch.no_grad():
        out = bag(torch.tensor([[1, 2]]))
    assert not out.requires_grad
    torch.testing.assert_close(out, (before[1] + before[2])[None] / 2)
    assert torch.equal(bag.weight.detach(), before)


def test_bad_configurations_are_clear_errors(torch):
    import embedkit
    import embedkit.torch as et

    with pytest.raises(ValueError, match="max"):
        et.FusedEmbeddingBag(10, 4, mode="max", optimizer="sgd", optimizer_kwargs={"lr": 1})
    with pytest.raises(TypeError, match="float32"):
        et.FusedEmbeddingBag(10, 4, dtype=torch.float16, optimizer="adagrad")
    with pytest.raises(ValueError, match="unknown optimizer"):
        et.FusedEmbeddingBag(10, 4, optimizer="adamw")
    with pytest.raises(ValueError, match="LazyAdam"):
        et.FusedEmbeddingBag(10, 4, optimizer=torch.optim.Adam)
    with pytest.raises(TypeError, match="lr"):  # SGD's lr has no default, as in torch.optim
        et.FusedEmbeddingBag(10, 4, optimizer="sgd")
    other = embedkit.optim.SGD([torch.zeros(3, 3)], lr=0.1)
    with pytest.raises(TypeError, match="instance"):
        et.FusedEmbeddingBag(10, 4, optimizer=other)
    # momentum moves rows the batch did not touch: not fusable, and nothing changes
    bag = et.FusedEmbeddingBag(10, 4, optimizer="sgd", optimizer_kwargs={"lr": 1, "momentum": 0.9})
    before = bag.weight.detach().clone()
    out = bag(torch.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="row-wise"):
        out.sum().backward()
    assert torch.equal(bag.weight.detach(), before)
    with pytest.raises(IndexError):
        bag(torch.tensor([[1, 10]]))


def test_replacing_the_weights_storage_is_detected(torch):
    import embedkit.torch as et

    bag = et.FusedEmbeddingBag(10, 4, optimizer="adagrad")
    bag.weight = torch.nn.Parameter(torch.zeros(10, 4))
    with pytest.raises(RuntimeError, match="replaced"):
        bag(torch.tensor([[1]]))


def test_collection_equals_one_torch_bag_per_table(torch):
    import embedkit.torch as et

    configs = [et.EmbeddingBagConfig(30, 4, name="user"),
               et.EmbeddingBagConfig(20, 8, name="item", mode="mean", padding_idx=0),
               (10, 2)]
    torch.manual_seed(0)
    ebc = et.FusedEmbeddingBagCollection(configs, optimizer=torch.optim.Adagrad,
                                         optimizer_kwargs={"lr": 0.2})
    assert ebc.table_names == ["user", "item", "t2"] and ebc.embedding_dims == [4, 8, 2]
    theirs = [torch.nn.EmbeddingBag(30, 4, mode="sum", sparse=True),
              torch.nn.EmbeddingBag(20, 8, mode="mean", padding_idx=0, sparse=True),
              torch.nn.EmbeddingBag(10, 2, mode="sum", sparse=True)]
    for name, bag in zip(ebc.table_names, theirs):
        with torch.no_grad():
            bag.weight.copy_(ebc.embedding_bags[name].weight)
    opt = torch.optim.Adagrad([p for b in theirs for p in b.parameters()], lr=0.2)
    gen = torch.Generator().manual_seed(3)
    for step in range(3):
        features = [_bags(torch, gen, n, batch=7) for n in (30, 20, 10)]
        if step == 1:  # a dict by name works as the list does
            out = ebc(dict(zip(ebc.table_names, features)))
        else:
            out = ebc(features)
        ref = torch.cat([b(ids, offs) for b, (ids, offs) in zip(theirs, features)], dim=1)
        assert out.shape == (7, 14)
        torch.testing.assert_close(out, ref, **TOL)
        for block, table_ref in zip(ebc.split(out), ref.split([4, 8, 2], dim=1)):
            torch.testing.assert_close(block, table_ref, **TOL)
        grad_out = torch.randn(7, 14, generator=gen)
        (out * grad_out).sum().backward()  # one backward steps every table
        (ref * grad_out).sum().backward()
        opt.step()
        opt.zero_grad()
        for name, bag in zip(ebc.table_names, theirs):
            torch.testing.assert_close(ebc.embedding_bags[name].weight, bag.weight, **TOL)
    keys = set(ebc.state_dict())
    assert "embedding_bags.user.weight" in keys and "embedding_bags.item._extra_state" in keys
    copy_ = et.FusedEmbeddingBagCollection(configs, optimizer="adagrad",
                                           optimizer_kwargs={"lr": 0.2})
    copy_.load_state_dict(ebc.state_dict())
    features = [_bags(torch, gen, n, batch=7) for n in (30, 20, 10)]
    ebc(features).sum().backward()
    copy_(features).sum().backward()
    for a, b in zip(ebc.parameters(), copy_.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("damage", ["first table's state", "middle table's weight",
                                    "last table's state", "a table missing"])
def test_a_collection_load_that_fails_changes_no_table(torch, damage):
    """A load that fails on one table leaves every table as it was, not only that one."""
    import embedkit.torch as et

    def trained(seed):
        torch.manual_seed(seed)
        ebc = et.FusedEmbeddingBagCollection([(30, 4), (20, 8), (10, 2)], optimizer="adagrad",
                                             optimizer_kwargs={"lr": 0.1})
        gen = torch.Generator().manual_seed(seed)
        ebc([_bags(torch, gen, n, batch=5) for n in (30, 20, 10)]).sum().backward()
        return ebc

    ebc, saved = trained(1), trained(2).state_dict()
    before = {name: (bag.weight.detach().clone(), bag.optimizer.state_dict())
              for name, bag in ebc.embedding_bags.items()}
    bad = dict(saved)
    if damage == "first table's state":
        bad["embedding_bags.t0._extra_state"] = {"optimizer": "sgd", "state": {}}
    elif damage == "middle table's weight":
        bad["embedding_bags.t1.weight"] = torch.zeros(21, 8)
    elif damage == "last table's state":
        extra = saved["embedding_bags.t2._extra_state"]
        bad["embedding_bags.t2._extra_state"] = {
            "optimizer": extra["optimizer"],
            "state": dict(extra["state"], **{"weight.sum": torch.zeros(3, 3)})}
    else:
        del bad["embedding_bags.t2.weight"]
    with pytest.raises((ValueError, RuntimeError)):
        ebc.load_state_dict(bad)
    for name, bag in ebc.embedding_bags.items():
        weight, state = before[name]
        assert torch.equal(bag.weight.detach(), weight), name
        after = bag.optimizer.state_dict()
        assert set(after) == set(state), name
        for key, value in state.items():
            np.testing.assert_array_equal(after[key], value)
    ebc.load_state_dict(saved)  # the good one still loads, every table
    for name, bag in ebc.embedding_bags.items():
        assert torch.equal(bag.weight.detach(), saved[f"embedding_bags.{name}.weight"]), name


def test_collection_input_errors(torch):
    import embedkit.torch as et

    ebc = et.FusedEmbeddingBagCollection([(10, 2), (10, 2)], optimizer="adagrad")
    ids = torch.tensor([[1, 2]])
    with pytest.raises(ValueError, match="2 tables"):
        ebc([ids])
    with pytest.raises(KeyError, match="missing"):
        ebc({"t0": ids})
    with pytest.raises(ValueError, match="same number of bags"):
        ebc([ids, torch.tensor([[1], [2]])])
    with pytest.raises(ValueError, match="distinct"):
        et.FusedEmbeddingBagCollection([(10, 2, ), et.EmbeddingBagConfig(5, 2, name="t0")],
                                       optimizer="sgd", optimizer_kwargs={"lr": 1.0})


def test_backward_from_other_threads(torch):
    """Backward on another thread than the forward, and several modules trained at once."""
    import embedkit.torch as et

    def make(seed):
        torch.manual_seed(seed)
        return et.FusedEmbeddingBag(1000, 16, mode="sum", optimizer="adagrad",
                                    optimizer_kwargs={"lr": 0.1})

    def train(module, seed):
        gen = torch.Generator().manual_seed(seed)
        for _ in range(20):
            ids, offsets = _bags(torch, gen, 1000, batch=64, max_len=10)
            loss = module(ids, offsets).pow(2).sum()
            worker = threading.Thread(target=loss.backward)  # autograd runs on that thread
            worker.start()
            worker.join()

    sequential = [make(s) for s in range(4)]
    for s, m in enumerate(sequential):
        train(m, s)
    parallel = [make(s) for s in range(4)]
    threads = [threading.Thread(target=train, args=(m, s)) for s, m in enumerate(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(sequential, parallel):
        assert torch.equal(a.weight, b.weight)


def test_the_fused_backward_releases_the_gil(torch):
    """Another Python thread runs while a large fused backward is in progress.

    With the GIL held for the whole call, no Python line of the other thread could run in the
    middle half of it (a GIL-holding control, sorting a Python list, shows none); a loaded
    machine may not schedule that thread within one call, so up to three calls are tried.
    """
    import embedkit.torch as et

    def ran_alongside(call):
        """Whether another thread ran Python in the middle half of call()."""
        ticks, stop = [], threading.Event()

        def count():
            while not stop.is_set():
                ticks.append(time.perf_counter())

        counter = threading.Thread(target=count)
        counter.start()
        time.sleep(0.01)
        start = time.perf_counter()
        call()
        end = time.perf_counter()
        stop.set()
        counter.join()
        assert end - start > 0.01, "the call was too quick to tell"
        margin = (end - start) / 4
        return any(start + margin < t < end - margin for t in ticks)

    numbers = list(torch.rand(1_000_000).tolist())
    assert not ran_alongside(lambda: sorted(numbers))  # the control holds the GIL throughout
    bag = et.FusedEmbeddingBag(200_000, 64, mode="sum", optimizer="adagrad")
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 200_000, (2048, 100), generator=gen)
    for _ in range(3):
        if ran_alongside(bag(ids).sum().backward):
            return
    pytest.fail("no Python ran while the fused backward ran: the GIL was held")


def test_copies_and_pickles_of_a_fused_module_train_on_their_own(torch):
    import pickle

    import embedkit.torch as et

    bag = et.FusedEmbeddingBag(30, 4, mode="sum", optimizer="sparse_adam",
                               optimizer_kwargs={"lr": 0.1})
    ids = torch.tensor([[1, 2], [2, 3]])
    bag(ids).sum().backward()
    clone = copy.deepcopy(bag)
    restored = pickle.loads(pickle.dumps(bag))  # torch.save(model) pickles the module
    for other in (clone, restored):
        assert other.weight.data_ptr() != bag.weight.data_ptr()
        assert other.table.weight.__array_interface__["data"][0] == other.weight.data_ptr()
        assert other.optimizer.state_dict().keys() == bag.optimizer.state_dict().keys()
    for module in (bag, clone, restored):
        module(ids).sum().backward()
    assert torch.equal(clone.weight, bag.weight) and torch.equal(restored.weight, bag.weight)
    plain = copy.deepcopy(et.EmbeddingBag(10, 3))
    assert torch.equal(plain(torch.tensor([[1]])), plain.weight[1:2].detach())


def test_include_last_offset_and_int32_ids_train_as_torch(torch):
    import embedkit.torch as et

    torch.manual_seed(2)
    ours = et.FusedEmbeddingBag(25, 3, mode="mean", include_last_offset=True,
                                optimizer=torch.optim.SGD, optimizer_kwargs={"lr": 0.5})
    torch.manual_seed(2)
    theirs = torch.nn.EmbeddingBag(25, 3, mode="mean", include_last_offset=True, sparse=True)
    opt = torch.optim.SGD(theirs.parameters(), lr=0.5)
    ids = torch.tensor([1, 4, 4, 9, 24, 0], dtype=torch.int32)
    offsets = torch.tensor([0, 2, 2, 6], dtype=torch.int32)  # 3 bags, the middle one empty
    for _ in range(2):
        ours(ids, offsets).pow(2).sum().backward()
        theirs(ids, offsets).pow(2).sum().backward()
        opt.step()
        opt.zero_grad()
        torch.testing.assert_close(ours.weight, theirs.weight, **TOL)


def test_bad_ids_are_refused_before_anything_changes(torch):
    import embedkit.torch as et

    bag = et.FusedEmbeddingBag(10, 4, mode="sum", optimizer="adagrad")
    before = bag.weight.detach().clone()
    with pytest.raises(TypeError):
        bag(torch.tensor([[1.0, 2.0]]))
    with pytest.raises(IndexError, match="-1"):
        bag(torch.tensor([[1, -1]]))
    with pytest.raises(ValueError):
        bag(torch.tensor([1, 2]), torch.tensor([0, 3]))  # an offset past the ids
    assert torch.equal(bag.weight.detach(), before)
    assert bag.optimizer.state_dict()["weight.step"] == 0  # no step was counted


@pytest.mark.parametrize("name,kwargs", CASES[1:])
def test_a_new_learning_rate_is_torchs_param_group_change(torch, name, kwargs):
    cls = getattr(torch.optim, name)
    ours, theirs = _twins(torch, dict(optimizer=cls, optimizer_kwargs=kwargs))
    opt = cls(theirs.parameters(), **kwargs)
    _train(torch, ours, theirs, _torch_optimizer_step(opt), 3, seed=1)
    ours.set_learning_rate(kwargs["lr"] / 10)
    opt.param_groups[0]["lr"] = kwargs["lr"] / 10
    assert ours.get_learning_rate() == kwargs["lr"] / 10
    _train(torch, ours, theirs, _torch_optimizer_step(opt), 3, seed=2)
    assert set(ours.state_dict()["_extra_state"]["state"]) == \
        set(ours.optimizer.state_dict())


def test_thread_count_is_set_as_torchs_and_does_not_change_results(torch):
    import embedkit
    import embedkit.torch as et

    default = embedkit.get_num_threads()
    assert default >= 1
    with pytest.raises(ValueError):
        embedkit.set_num_threads(0)
    results = []
    try:
        for threads in (1, 3):
            embedkit.set_num_threads(threads)
            assert embedkit.get_num_threads() == threads
            torch.manual_seed(0)
            bag = et.FusedEmbeddingBag(5000, 32, mode="mean", optimizer="adagrad",
                                       optimizer_kwargs={"lr": 0.1})
            gen = torch.Generator().manual_seed(1)
            for _ in range(3):
                ids, offsets = _bags(torch, gen, 5000, batch=512, max_len=30)
                bag(ids, offsets).pow(2).sum().backward()
            results.append(bag.weight.detach().clone())
    finally:
        embedkit.set_num_threads(default)
    assert torch.equal(results[0], results[1])  # bit for bit whatever the thread count


def test_from_pretrained_takes_torchs_freeze(torch):
    """torch's from_pretrained(w, freeze=False, ...) works unchanged; freeze=True only looks up."""
    import embedkit.torch as et

    gen = torch.Generator().manual_seed(5)
    table = torch.randn(12, 4, generator=gen)
    ids = torch.tensor([[1, 2, 3], [4, 5, 1]])
    frozen = et.FusedEmbeddingBag.from_pretrained(table.clone(), optimizer="sgd",
                                                  optimizer_kwargs={"lr": 0.5})
    assert not frozen.weight.requires_grad
    out = frozen(ids)
    assert not out.requires_grad  # nothing to train: no backward can reach the table
    torch.testing.assert_close(out, table[ids].mean(dim=1), **TOL)

    trained = et.FusedEmbeddingBag.from_pretrained(table.clone(), False, mode="sum",
                                                   optimizer="sgd", optimizer_kwargs={"lr": 0.5})
    theirs = torch.nn.EmbeddingBag.from_pretrained(table.clone(), freeze=False, mode="sum",
                                                   sparse=True)
    opt = torch.optim.SGD(theirs.parameters(), lr=0.5)
    trained(ids).sum().backward()
    theirs(ids).sum().backward()
    opt.step()
    torch.testing.assert_close(trained.weight.detach(), theirs.weight.detach(), **TOL)
    assert not torch.equal(trained.weight.detach(), table)

    emb = et.FusedEmbedding.from_pretrained(table.clone(), freeze=False, optimizer="sgd",
                                            optimizer_kwargs={"lr": 0.5})
    assert emb.weight.requires_grad
    emb(torch.tensor([3])).sum().backward()
    assert not torch.equal(emb.weight.detach()[3], table[3])


def test_collection_tables_take_an_init_fn(torch):
    """EmbeddingBagConfig.init_fn (TorchRec's name) sets a table's first values in place."""
    import embedkit.torch as et

    pretrained = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    ebc = et.FusedEmbeddingBagCollection(
        [et.EmbeddingBagConfig(10, 2, name="a", init_fn=lambda w: w.copy_(pretrained)),
         et.EmbeddingBagConfig(5, 3, name="b", init_fn=torch.nn.init.zeros_)],
        optimizer="sgd", optimizer_kwargs={"lr": 1.0})
    assert torch.equal(ebc.embedding_bags["a"].weight.detach(), pretrained)
    assert torch.equal(ebc.embedding_bags["b"].weight.detach(), torch.zeros(5, 3))
    out = ebc([torch.tensor([[1, 2]]), torch.tensor([[0]])])
    torch.testing.assert_close(out, torch.tensor([[2.0 + 4.0, 3.0 + 5.0, 0.0, 0.0, 0.0]]))
    out.sum().backward()  # the fused table is the one init_fn wrote: it trains from there
    assert torch.equal(ebc.embedding_bags["a"].weight.detach()[1], pretrained[1] - 1.0)
