"""embedkit.nn releases the GIL while its kernels run: other Python threads run meanwhile, and
lookups from several threads at once give the right results. No assertion on timing."""

import sys
import threading

import numpy as np
import pytest

from embedkit import nn
from embedkit.nn import functional as F


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(11)
    table = rng.standard_normal((100_000, 64)).astype(np.float32)
    ids = rng.integers(0, 100_000, 1_000_000)
    offsets = np.arange(0, ids.size, 500)
    return table, ids, offsets


# Inputs made beforehand: NumPy itself releases the GIL while it fills large arrays.
ROWS_GRAD = np.ones((200_000, 64), np.float32)
BAGS_GRAD = np.ones((2_000, 64), np.float32)


def python_loop(*_):
    """The control: pure Python, holding the GIL throughout."""
    return sum(i * i for i in range(300_000))


CALLS = {
    "embedding": lambda t, ids, off: F.embedding(ids[:200_000], t),
    "embedding_bag": lambda t, ids, off: F.embedding_bag(ids, t, off, mode="sum"),
    "module_forward": lambda t, ids, off: nn.EmbeddingBag(*t.shape, _weight=t)(ids, off),
    "embedding_backward": lambda t, ids, off: F.embedding_backward(ids[:200_000], ROWS_GRAD,
                                                                   t.shape[0]),
    "embedding_bag_backward": lambda t, ids, off: F.embedding_bag_backward(ids, t, BAGS_GRAD, off,
                                                                           mode="mean"),
}


def runs_alongside(call, table, ids, offsets):
    """Whether another Python thread ran during one of up to 50 calls of `call`.

    Proof without timing: with a switch interval of an hour, the interpreter never takes the
    GIL from a running thread, so the counting thread can run during the main thread's calls
    only if a call releases the GIL. It counts a fixed number of steps and ends.
    """
    go = threading.Event()
    counted = []

    def count():
        go.wait()  # blocks (without the GIL) until the main thread is about to call
        n = 0
        for _ in range(100_000):
            n += 1
        counted.append(n)

    interval = sys.getswitchinterval()
    counter = threading.Thread(target=count)
    try:
        sys.setswitchinterval(3600)
        counter.start()
        go.set()  # the counter is runnable, but the main thread holds the GIL...
        for _ in range(50):
            call(table, ids, offsets)  # ...until a call releases it
            if counted:
                break
        ran_during_a_call = bool(counted)
    finally:
        sys.setswitchinterval(interval)
    counter.join()
    return ran_during_a_call


@pytest.mark.parametrize("call", CALLS)
def test_another_python_thread_runs_while_a_lookup_computes(big, call):
    assert runs_alongside(CALLS[call], *big), f"{call} held the GIL through 50 calls"


def test_the_proof_fails_for_a_call_that_holds_the_gil(big):
    assert not runs_alongside(python_loop, *big)


def test_lookups_from_two_threads_at_once_are_right(big):
    table, ids, offsets = big
    module = nn.EmbeddingBag(*table.shape, mode="sum", _weight=table)
    expected = {"bags": np.add.reduceat(table[ids].astype(np.float64), offsets),
                "rows": table[ids[:300_000]]}
    results, errors = {}, []

    def run(name, fn):
        try:
            for _ in range(3):
                results[name] = fn()
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=("bags", lambda: module(ids, offsets))),
               threading.Thread(target=run, args=("rows", lambda: F.embedding(ids[:300_000],
                                                                               table)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    np.testing.assert_array_equal(results["rows"], expected["rows"])
    np.testing.assert_allclose(results["bags"], expected["bags"], rtol=1e-4, atol=1e-3)


def test_an_error_in_one_thread_leaves_the_other_unharmed(big):
    table, ids, offsets = big
    bad = ids.copy()
    bad[123_456] = 100_000
    outcome = {}

    def good():
        outcome["good"] = F.embedding_bag(ids, table, offsets, mode="max")

    def failing():
        try:
            F.embedding_bag(bad, table, offsets, mode="max")
        except IndexError as e:
            outcome["error"] = str(e)

    threads = [threading.Thread(target=good), threading.Thread(target=failing)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome["error"] == ("ids: value 100000 at position 123456 is outside the valid range "
                                "[0, 100000)")
    np.testing.assert_array_equal(outcome["good"][:2],
                                  [table[ids[0:500]].max(axis=0), table[ids[500:1000]].max(axis=0)])
