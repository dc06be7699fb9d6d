"""embedkit.Recommender on synthetic low-rank ratings made here.

The ratings are 3 + P Q^T with P, Q of rank 3 (a standard deviation of about 1.8), half of the
(user, item) pairs observed: a factorisation of rank >= 3 can recover the other half.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import embedkit

USERS, ITEMS, RANK = 100, 80, 3

# Small data needs small batches and many steps (the defaults are tuned on MovieLens).
PARAMS = dict(factors=8, iterations=100, batch_size=64, learning_rate=0.05, regularization=0.001,
              bias_regularization=0.001)


def low_rank(seed=0):
    rng = np.random.default_rng(seed)
    full = 3 + rng.normal(size=(USERS, RANK)) @ rng.normal(size=(ITEMS, RANK)).T
    observed = rng.random((USERS, ITEMS)) < 0.5
    train = [(u, i, float(full[u, i])) for u in range(USERS) for i in range(ITEMS)
             if observed[u, i]]
    test = [(u, i, float(full[u, i])) for u in range(USERS) for i in range(ITEMS)
            if not observed[u, i]]
    return train, test


@pytest.fixture(scope="module")
def fitted():
    train, test = low_rank()
    return embedkit.Recommender(**PARAMS).fit(train), train, test


def test_fit_recovers_low_rank_ratings(fitted):
    model, train, test = fitted
    seen, held_out = model.evaluate(train), model.evaluate(test)
    # Measured over seeds 0-2: 0.011-0.014 on the training pairs and 0.024-0.029 on the held-out
    # ones, against 1.74 for the mean rating.
    assert seen["rmse"] < 0.05
    assert held_out["rmse"] < 0.1 and held_out["baseline_rmse"] > 1.5
    assert held_out["mae"] <= held_out["rmse"]
    assert held_out["count"] == len(test) and held_out["unknown_user"] == 0
    u, i, r = test[0]
    assert model.predict(u, i) == pytest.approx(r, abs=0.3)
    assert type(model.predict(u, i)) is float


def test_recommend_excludes_seen_items_and_ranks_by_predicted_rating(fitted):
    model, train, _ = fitted
    seen = {i for u, i, _ in train if u == 7}
    assert sorted(model.seen_items(7)) == sorted(seen)
    top = model.recommend(7, k=5)
    assert len(top) == 5
    assert all(type(item) is int and type(score) is float for item, score in top)
    assert not seen & {item for item, _ in top}
    scores = [s for _, s in top]
    assert scores == sorted(scores, reverse=True)
    for item, score in top:
        assert model.predict(7, item) == pytest.approx(score, abs=1e-5)
    unseen = [i for i in range(ITEMS) if i not in seen]
    best = max(unseen, key=lambda i: model.predict(7, i))
    assert top[0][0] == best
    assert len(model.recommend(7, k=ITEMS)) == len(unseen)  # all there is


def test_similar_items_are_the_cosine_neighbours(fitted):
    model, _, _ = fitted
    near = model.similar_items(3, k=4)
    assert len(near) == 4 and 3 not in [i for i, _ in near]
    q = model.item_factors / np.linalg.norm(model.item_factors, axis=1, keepdims=True)
    row = model.items.index(3)
    cos = q @ q[row]
    cos[row] = -np.inf
    expected = np.argsort(-cos, kind="stable")[:4]
    assert [i for i, _ in near] == [model.items[r] for r in expected]
    assert [s for _, s in near] == pytest.approx(cos[expected].tolist(), abs=1e-5)


def test_ids_keep_their_type_and_either_spelling_is_accepted():
    train, _ = low_rank()
    named = [(f"user {u}", f"item-{i}", r) for u, i, r in train]
    model = embedkit.Recommender(**dict(PARAMS, iterations=5)).fit(named)
    assert model.users[0] == "user 0" and model.items[0].startswith("item-")
    assert all(type(i) is str for i, _ in model.recommend("user 0", 3))
    ints = embedkit.Recommender(**dict(PARAMS, iterations=5)).fit(train)
    assert ints.users[:2] == [0, 1]
    assert ints.predict(0, 1) == ints.predict("0", np.int64(1))


def test_columns_tuples_and_files_give_the_same_model(tmp_path):
    train, _ = low_rank()
    params = dict(PARAMS, iterations=5)
    a = embedkit.Recommender(**params).fit(train)
    columns = {"user": np.array([u for u, _, _ in train]),
               "item": [i for _, i, _ in train],
               "rating": np.array([r for _, _, r in train], dtype=np.float32)}
    b = embedkit.Recommender(**params).fit(columns)
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating\n" + "".join(f"{u},{i},{r!r}\n" for u, i, r in train))
    c = embedkit.Recommender.from_file(path, **params)
    d = embedkit.Recommender(**params).fit_file(str(path))
    for other in (b, c, d):
        assert other.users == a.users and other.items == a.items
        assert np.array_equal(other.user_factors, a.user_factors)
        assert np.array_equal(other.item_factors, a.item_factors)
        assert np.array_equal(other.item_biases, a.item_biases)
        assert other.global_bias == a.global_bias


def test_save_load_round_trip_is_identical(fitted, tmp_path):
    model, _, test = fitted
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = embedkit.Recommender.load(str(path))
    assert loaded.users == model.users and loaded.items == model.items
    assert loaded.factors == 8 and loaded.objective == "rating"
    for name in ("user_factors", "item_factors", "user_biases", "item_biases"):
        assert np.array_equal(getattr(loaded, name), getattr(model, name))
    assert [loaded.predict(u, i) for u, i, _ in test[:50]] == \
        [model.predict(u, i) for u, i, _ in test[:50]]
    for user in (0, 42, 99):
        assert loaded.recommend(user, 10) == model.recommend(user, 10)
        assert loaded.seen_items(user) == model.seen_items(user)
    assert loaded.similar_items(5, 5) == model.similar_items(5, 5)
    assert loaded.evaluate(test) == model.evaluate(test)


def test_tables_are_read_only_views(fitted):
    model, _, _ = fitted
    p = model.user_factors
    assert p.shape == (USERS, 8) and p.dtype == np.float32 and not p.flags.writeable
    assert model.user_biases.shape == (USERS,)
    with pytest.raises(ValueError):
        p[0, 0] = 1.0


def test_bpr_ranks_held_out_interactions_above_chance():
    rng = np.random.default_rng(3)
    affinity = rng.normal(size=(USERS, RANK)) @ rng.normal(size=(ITEMS, RANK)).T
    # Each user interacts with their 20 favourite items; 4 of them are held out.
    favourite = np.argsort(-affinity, axis=1)[:, :20]
    train = [(u, int(i)) for u in range(USERS) for i in favourite[u, 4:]]
    test = [(u, int(i), 1.0) for u in range(USERS) for i in favourite[u, :4]]
    model = embedkit.Recommender(factors=8, objective="bpr", iterations=60, batch_size=64,
                                 learning_rate=0.05).fit(train)
    metrics = model.evaluate(test, k=10)
    assert "rmse" not in metrics and metrics["users"] == USERS
    # Chance: 10 of the 64 unseen items, so recall@10 about 0.16. Measured over seeds 0-2:
    # 0.92-0.94.
    assert metrics["recall"] > 0.5
    assert not {i for i, _ in model.recommend(0, 10)} & set(model.seen_items(0))


# -- bad input --------------------------------------------------------------------------------


def test_unknown_ids_are_key_errors(fitted):
    model, _, _ = fitted
    with pytest.raises(KeyError, match="user 'nobody'"):
        model.recommend("nobody")
    with pytest.raises(KeyError):
        model.predict(12345, 0)
    with pytest.raises(KeyError, match="item"):
        model.predict(0, 12345)
    with pytest.raises(KeyError):
        model.similar_items(12345)
    with pytest.raises(KeyError):
        model.seen_items(-1)


def test_unknown_ids_in_evaluation_fall_back_to_the_biases_and_are_counted(fitted):
    model, _, test = fitted
    r = model.evaluate(test[:10] + [(999, 0, 3.0), (0, 999, 3.0), (999, 999, 3.0)])
    assert (r["unknown_user"], r["unknown_item"], r["unknown_both"]) == (1, 1, 1)
    assert r["cold_users"] == 1


def test_bad_data_is_refused_and_leaves_the_model_as_it_was(fitted):
    model, train, test = fitted
    before = model.predict(0, 1)
    bad = [
        [(0, 1)],                          # no rating for the rating objective
        [(0, 1, 2.0, 5)],                  # too many fields
        [(0, 1, "good")],                  # not a number
        [(0, 1, float("nan"))],            # not finite
        [],                                # nothing
        [("", 1, 2.0)],                    # empty id
        [("a\nb", 1, 2.0)],                # a line break in an id
        {"user": [0, 1], "item": [0], "rating": [1.0, 2.0]},  # columns of different lengths
        {"user": [0], "rating": [1.0]},    # no item column
    ]
    for ratings in bad:
        with pytest.raises(ValueError):
            model.fit(ratings)
    with pytest.raises(TypeError):
        model.fit([(1.5, 1, 2.0)])         # a float id
    with pytest.raises(TypeError):
        model.fit("ratings.csv")           # a path: fit_file
    assert model.predict(0, 1) == before
    with pytest.raises(ValueError):
        model.recommend(0, k=0)
    with pytest.raises(ValueError):
        model.similar_items(0, k=0)
    with pytest.raises(ValueError):
        model.evaluate(test, k=0)


def test_bad_parameters_and_unfitted_models():
    train, _ = low_rank()
    for params in (dict(factors=0), dict(learning_rate=-1.0), dict(batch_size=0),
                   dict(optimizer="sgd"), dict(iterations=-1)):
        with pytest.raises(ValueError):
            embedkit.Recommender(**params).fit(train)
    with pytest.raises(ValueError):
        embedkit.Recommender(objective="als")
    with pytest.raises(RuntimeError, match="fit"):
        embedkit.Recommender().recommend(0)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        embedkit.Recommender().fit_file(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError):
        embedkit.Recommender.load(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.csv"
    bad.write_text("userId,movieId,rating\n1,2,3.5\n1,2,lots\n")
    with pytest.raises(ValueError, match="bad.csv:3"):
        embedkit.Recommender().fit_file(bad)
    not_model = tmp_path / "model.safetensors"
    not_model.write_bytes(b"\x00" * 64)
    with pytest.raises(OSError, match="model.safetensors"):
        embedkit.Recommender.load(not_model)


def test_progress_callback_sees_every_epoch_and_can_stop_training():
    train, _ = low_rank()
    epochs = []
    embedkit.Recommender(**dict(PARAMS, iterations=4)).fit(
        train, callback=lambda epoch, loss, seconds: epochs.append((epoch, loss)))
    assert [e for e, _ in epochs] == [1, 2, 3, 4]
    assert epochs[-1][1] < epochs[0][1]

    class Stop(Exception):
        pass

    def stop(epoch, loss, seconds):
        raise Stop()

    model = embedkit.Recommender(**dict(PARAMS, iterations=4))
    with pytest.raises(Stop):
        model.fit(train, callback=stop)
    with pytest.raises(RuntimeError):  # the half-trained model was dropped
        model.predict(0, 0)


CTRL_C = textwrap.dedent("""
    import sys
    import numpy as np
    import embedkit
    rng = np.random.default_rng(0)
    n = 200000
    ratings = {"user": rng.integers(0, 5000, n), "item": rng.integers(0, 2000, n),
               "rating": rng.integers(1, 6, n).astype(np.float32)}
    # One epoch of 200000 one-rating batches of 2048 factors takes seconds (about 7): only a
    # check between batches stops it in time. Reading the ratings takes a tenth of a second.
    model = embedkit.Recommender(factors=2048, iterations=100000, batch_size=1)
    print("training", flush=True)
    model.fit(ratings)
    model.save(sys.argv[1])
""")


def _cpu_seconds(pid):
    """User + system CPU time of process ``pid`` so far (Linux: /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_ctrl_c_raises_keyboard_interrupt_and_writes_nothing(tmp_path):
    out = tmp_path / "model.safetensors"
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "training"
    # Inside training, not still before it: the child has used a second of CPU beyond what it
    # had when it said "training" (reading the ratings takes a tenth of one, an epoch about 7).
    # A fixed wall-clock wait let the signal arrive before training on a loaded machine.
    start = _cpu_seconds(proc.pid)
    deadline = time.monotonic() + 120
    while _cpu_seconds(proc.pid) < start + 1.0:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # Ctrl-C is honoured between mini-batches (every 0.05 s at most), well inside the epoch;
    # the interpreter's exit takes the rest.
    assert time.perf_counter() - sent < 3
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert "_embedkit.Recommender.train(" in err  # raised inside training, not before
    assert not out.exists()
