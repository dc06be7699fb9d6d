"""embedkit.torch's input-order SGD, optimizer="approx_sgd" (FBGEMM's non-exact SGD).

Each id's update goes straight into the table in input order; it must stay within the bound
documented in docs/conformance.md of the exact "sgd" (and so of torch's SGD), give the same
bits at every thread count, and refuse what is not linear in the gradient.
"""

import pytest


def _twins(torch, mode, padding_idx, n=60, d=100, seed=0):
    import embedkit.torch as et

    torch.manual_seed(seed)
    weight = torch.randn(n, d)
    approx = et.FusedEmbeddingBag.from_pretrained(
        weight.clone(), freeze=False, mode=mode, padding_idx=padding_idx,
        optimizer="approx_sgd", optimizer_kwargs={"lr": 0.3})
    exact = et.FusedEmbeddingBag.from_pretrained(
        weight.clone(), freeze=False, mode=mode, padding_idx=padding_idx, optimizer="sgd",
        optimizer_kwargs={"lr": 0.3})
    return weight, approx, exact


def _batch(torch, gen, n, batch=64, max_len=30):
    lengths = torch.randint(0, max_len + 1, (batch,), generator=gen)
    ids = torch.randint(0, n, (int(lengths.sum()),), generator=gen)
    ids[::3] = 5  # a hot row
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)[:-1]])
    return ids, offsets


@pytest.mark.parametrize("mode,padding_idx", [("sum", None), ("mean", 0), ("mean", None)])
def test_approx_sgd_is_within_the_documented_bound_of_exact_sgd(torch, mode, padding_idx):
    weight, approx, exact = _twins(torch, mode, padding_idx)
    gen = torch.Generator().manual_seed(1)
    ids, offsets = _batch(torch, gen, weight.shape[0])
    grad_out = torch.randn(len(offsets), weight.shape[1], generator=gen)
    (approx(ids, offsets) * grad_out).sum().backward()
    (exact(ids, offsets) * grad_out).sum().backward()
    assert approx.weight.grad is None
    # The bound, per element: 2 (k + 1) 2^-24 (|w| + lr * sum over the k occurrences |s g|).
    magnitude = torch.zeros_like(weight, dtype=torch.float64)
    count = torch.zeros(weight.shape[0], dtype=torch.float64)
    bounds = offsets.tolist() + [len(ids)]
    for b in range(len(offsets)):
        bag = [i for i in ids[bounds[b]:bounds[b + 1]].tolist() if i != padding_idx]
        for i in bag:
            s = 1.0 / len(bag) if mode == "mean" else 1.0
            magnitude[i] += 0.3 * (s * grad_out[b].double()).abs()
            count[i] += 1
    bound = 2 * (count[:, None] + 1) * 2.0 ** -24 * (weight.double().abs() + magnitude)
    diff = (approx.weight.detach().double() - exact.weight.detach().double()).abs()
    assert bool((diff <= bound).all()), float((diff - bound).max())
    assert not torch.equal(approx.weight, weight)  # it trained
    if padding_idx is not None:
        assert torch.equal(approx.weight[padding_idx], weight[padding_idx])


def test_approx_sgd_gives_the_same_bits_at_every_thread_count(torch):
    import embedkit

    before = embedkit.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 4):
            embedkit.set_num_threads(threads)
            weight, approx, _ = _twins(torch, "mean", None, n=500, d=64)
            gen = torch.Generator().manual_seed(2)
            for _ in range(3):
                ids, offsets = _batch(torch, gen, 500, batch=2048, max_len=20)
                grad_out = torch.randn(len(offsets), 64, generator=gen)
                (approx(ids, offsets) * grad_out).sum().backward()
            results.append(approx.weight.detach().clone())
    finally:
        embedkit.set_num_threads(before)
    assert torch.equal(results[0], results[1]) and torch.equal(results[0], results[2])


def test_approx_sgd_keeps_its_mode_through_set_learning_rate_and_copies(torch):
    import copy

    _, approx, _ = _twins(torch, "sum", None)
    assert "approx_sgd" in repr(approx)
    approx.set_learning_rate(0.1)
    assert "approx_sgd" in repr(approx) and approx.get_learning_rate() == 0.1
    assert "approx_sgd" in repr(copy.deepcopy(approx))


def test_approx_sgd_refuses_momentum_weight_decay_and_other_optimizers(torch):
    import embedkit
    import embedkit.torch as et

    for kwargs in ({"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "weight_decay": 0.01}):
        with pytest.raises(ValueError, match="approx_sgd"):
            et.FusedEmbeddingBag(10, 4, optimizer="approx_sgd", optimizer_kwargs=kwargs)
    bag = et.FusedEmbeddingBag(10, 4, optimizer="adagrad")
    before = bag.weight.detach().clone()
    ids = torch.tensor([1, 2, 2])
    with pytest.raises(ValueError, match="linear in the gradient"):
        embedkit.optim.fused_backward_step(bag, ids.numpy(), torch.tensor([0]).numpy(),
                                           torch.ones(1, 4).numpy(), bag.optimizer, exact=False)
    assert torch.equal(bag.weight, before)
