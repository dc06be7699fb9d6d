"""A recommender: biased matrix factorisation over ratings (explicit) or interactions (BPR).

``Recommender`` follows the names users of the ``implicit`` package guess (``factors``,
``iterations``, ``learning_rate``, ``regularization``, ``random_state``; ``fit``,
``recommend``, ``similar_items``) and Surprise's ``predict(user, item)`` for a rating, with ids
as they come (str or int) instead of matrix rows::

    from embedkit import Recommender
    model = Recommender(factors=32, iterations=20).fit([("alice", "matrix", 5.0), ...])
    model.predict("alice", "matrix")          # a float, clipped to the training range
    model.recommend("alice", k=10)            # [(item, score)], rated items excluded
    model.similar_items("matrix", k=10)       # [(item, cosine)]

The model is embedkit's ``MatrixFactorization`` (``embedkit recommend`` on the command line):
score(u, i) = g + b_u + b_i + <p_u, q_i>, trained with a row-sparse optimizer on mini-batches.

Ids: a user or item id is a non-empty str without line breaks, or an int. Every id of a kind
(users, items) that spells an integer in decimal ("42", "-7") is returned as an int, so ints
stay ints, and MovieLens-style files give ints; otherwise ids are returned as str. Either
spelling (``42`` or ``"42"``) is accepted as input.
"""

import os
import re
import sys

import numpy as np

from embedkit import _embedkit, _mpi

__all__ = ["Recommender"]

_INT = re.compile(r"-?(0|[1-9][0-9]*)\Z")


def _key(value, kind):
    """An id as the model stores it (a str)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    raise TypeError(f"{kind} ids are str or int, got {type(value).__name__}: {value!r}")


def _typed(names):
    """Maps stored ids back to the caller's type (see the module's docstring)."""
    if names and all(_INT.match(n) for n in names):
        return int
    return str


def _columns(ratings, need_rating):
    """(users, items, ratings) lists from tuples or from columns (a mapping, e.g. a dict of
    lists or arrays, or a DataFrame, with keys "user", "item" and "rating")."""
    if hasattr(ratings, "keys"):
        keys = set(ratings.keys())
        missing = [c for c in ("user", "item") if c not in keys]
        if missing:
            raise ValueError(f"ratings as columns need the keys 'user', 'item' and 'rating' "
                             f"(missing: {', '.join(missing)})")
        users = list(ratings["user"])
        items = list(ratings["item"])
        if "rating" in keys:
            values = ratings["rating"]
        elif need_rating:
            raise ValueError("the rating objective needs a 'rating' column")
        else:
            values = [1.0] * len(users)
    else:
        if isinstance(ratings, (str, bytes)):
            raise TypeError("ratings are (user, item, rating) tuples or columns; for a file, "
                            "use fit_file(path)")
        users, items, values = [], [], []
        for n, row in enumerate(ratings):
            if len(row) == 3:
                u, i, r = row
            elif len(row) == 2 and not need_rating:
                (u, i), r = row, 1.0
            else:
                want = "(user, item, rating)" if need_rating else "(user, item[, rating])"
                raise ValueError(f"rating {n}: expected {want}, got {len(row)} values")
            users.append(u)
            items.append(i)
            values.append(r)
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"ratings must be numbers: {e}") from None
    if values.ndim != 1 or len(values) != len(users) or len(items) != len(users):
        raise ValueError(f"users, items and ratings differ in length: {len(users)}, "
                         f"{len(items)} and {values.size}")
    if len(users) == 0:
        raise ValueError("no ratings to fit")
    return ([_key(u, "user") for u in users], [_key(i, "item") for i in items],
            values.astype(np.float32).tolist())


class Recommender:
    """Matrix factorisation for recommendation, with the names of ``implicit``/Surprise.

    Parameters (embedkit's tuned defaults; ``None`` picks the objective's):

    - ``factors=64``: the dimension of the user and item vectors.
    - ``iterations=None``: epochs over the ratings (10 for ``"rating"``, 30 for ``"bpr"``).
    - ``learning_rate=0.05``.
    - ``regularization=None``: L2 on factor rows per lookup (0.1 for ``"rating"``, 0.01 for
      ``"bpr"``).
    - ``bias_regularization=0.01``: L2 on user and item biases, per lookup.
    - ``objective="rating"``: squared error on explicit ratings; ``"bpr"``: Bayesian
      personalised ranking on implicit feedback (the rating column is then optional and only
      the (user, item) pairs count).
    - ``optimizer="rowwise-adagrad"`` or ``"sparse-adam"``.
    - ``batch_size=1024``, ``init_std=0.01``, ``random_state=42`` (the same data and seed give
      the same model).

    Errors: ``ValueError`` for bad parameters or data, ``KeyError`` for an unknown user or
    item, ``TypeError`` for an id that is neither str nor int, ``OSError`` for files. A failed
    ``fit`` leaves the model as it was.
    """

    def __init__(self, factors=64, iterations=None, learning_rate=0.05, regularization=None,
                 bias_regularization=0.01, objective="rating", optimizer="rowwise-adagrad",
                 batch_size=1024, init_std=0.01, random_state=42):
        if objective not in ("rating", "bpr"):
            raise ValueError(f"objective must be 'rating' or 'bpr', got {objective!r}")
        bpr = objective == "bpr"
        self.factors = factors
        self.iterations = iterations if iterations is not None else (30 if bpr else 10)
        self.learning_rate = learning_rate
        self.regularization = (regularization if regularization is not None
                               else (0.01 if bpr else 0.1))
        self.bias_regularization = bias_regularization
        self.objective = objective
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.init_std = init_std
        self.random_state = random_state
        self._model = None
        self._set_model(None)

    def __repr__(self):
        state = (f"{len(self._model.users)} users, {len(self._model.items)} items"
                 if self._model is not None else "not fitted")
        return (f"Recommender(factors={self.factors}, iterations={self.iterations}, "
                f"objective={self.objective!r}: {state})")

    # -- training --------------------------------------------------------------------------

    def _options(self):
        return dict(objective=self.objective, optimizer=self.optimizer, dim=int(self.factors),
                    epochs=int(self.iterations), lr=float(self.learning_rate),
                    l2=float(self.regularization), l2_bias=float(self.bias_regularization),
                    batch_size=int(self.batch_size), init_std=float(self.init_std),
                    seed=int(self.random_state))

    @staticmethod
    def _reporter(show_progress, callback):
        def on_epoch(epoch, loss, seconds):
            if show_progress:
                sys.stderr.write(f"epoch {epoch}: loss {loss:.6f} ({seconds:.1f} s)\n")
            if callback is not None:
                callback(epoch, loss, seconds)
        return on_epoch

    def fit(self, ratings, show_progress=False, callback=None, *, comm=None):
        """Trains on ``ratings`` and returns ``self``.

        ``ratings``: an iterable of ``(user, item, rating)`` tuples (for ``"bpr"`` also
        ``(user, item)`` pairs), or columns: a mapping with keys ``"user"``, ``"item"`` and
        ``"rating"`` (lists or NumPy arrays; a pandas DataFrame with those columns works too).
        The same (user, item) pair may appear more than once: each is one observation.

        ``show_progress`` prints each epoch's loss on stderr; ``callback(epoch, loss,
        seconds)`` is called after every epoch. The GIL is released while training; Ctrl-C
        raises ``KeyboardInterrupt`` within a twentieth of a second (between mini-batches),
        leaving the model as it was.

        ``comm`` (keyword only): an mpi4py communicator (``MPI.COMM_WORLD``) to train across
        its processes (``mpirun -np P python3 train.py``), as ``mpirun -np P embedkit recommend
        train`` does: the tables are sharded over the ranks, each rank computes the gradients
        of its share of every mini-batch, and for the ``"rating"`` objective the model equals
        the one-process model bit for bit at any P (for ``"bpr"`` at P = 1). Every rank passes
        the same ratings and parameters (checked: otherwise every rank raises the same error)
        and every rank gets the model; progress and ``callback`` run on rank 0 (an exception
        from it stops every rank). Save on one rank (``if comm.rank == 0: model.save(...)``).
        Needs embedkit built with MPI (``embedkit.has_mpi``): RuntimeError otherwise.
        """
        comm = _mpi.communicator(comm, "Recommender.fit")
        with _mpi.agreement(comm):
            users, items, values = _columns(ratings, need_rating=self.objective == "rating")
            if comm is not None:
                _embedkit.Recommender.check(users, items, values, **self._options())
        self._fit_columns(users, items, values, show_progress, callback, comm)
        return self

    def _fit_columns(self, users, items, values, show_progress, callback, comm):
        model = _embedkit.Recommender.train(users, items, values, **self._options(),
                                            on_epoch=self._reporter(show_progress, callback),
                                            comm=comm)
        self._set_model(model)

    def fit_file(self, path, show_progress=False, callback=None, *, comm=None):
        """Trains on a ratings file and returns ``self``: MovieLens CSV
        (``userId,movieId,rating[,timestamp]``, header optional) or whitespace-separated
        ``user item rating [timestamp]`` (MovieLens 100k's ``u.data``). ``comm``: as in
        ``fit``; every rank reads the whole file (the id maps and the shuffle need it)."""
        comm = _mpi.communicator(comm, "Recommender.fit_file")
        if comm is None:
            model = _embedkit.Recommender.train_file(
                os.fspath(path), **self._options(),
                on_epoch=self._reporter(show_progress, callback))
            self._set_model(model)
            return self
        with _mpi.agreement(comm):
            users, items, values = _embedkit.Recommender.read_ratings(os.fspath(path))
            _embedkit.Recommender.check(users, items, values, **self._options())
        self._fit_columns(users, items, values, show_progress, callback, comm)
        return self

    @classmethod
    def from_file(cls, path, **params):
        """``Recommender(**params).fit_file(path)``."""
        return cls(**params).fit_file(path)

    def _set_model(self, model):
        self._model = model
        self._user_type = _typed(model.users) if model is not None else str
        self._item_type = _typed(model.items) if model is not None else str
        self._user_rows = None
        self._item_rows = None

    def _fitted(self):
        if self._model is None:
            raise RuntimeError("this Recommender is not fitted yet: call fit() first")
        return self._model

    def _user(self, user):
        model = self._fitted()
        key = _key(user, "user")
        if self._user_rows is None:
            self._user_rows = {u: n for n, u in enumerate(model.users)}
        if key not in self._user_rows:
            raise KeyError(f"user {user!r} is not in the model")
        return key

    def _item(self, item):
        model = self._fitted()
        key = _key(item, "item")
        if self._item_rows is None:
            self._item_rows = {i: n for n, i in enumerate(model.items)}
        if key not in self._item_rows:
            raise KeyError(f"item {item!r} is not in the model")
        return key

    # -- queries ---------------------------------------------------------------------------

    def predict(self, user, item):
        """The predicted rating of ``item`` by ``user`` (a float): g + b_u + b_i + <p_u, q_i>,
        clipped to the training ratings' range for the ``"rating"`` objective (for ``"bpr"`` an
        unbounded preference score). ``KeyError`` for a user or item the model does not know.
        """
        value, _, _ = self._fitted().predict(self._user(user), self._item(item))
        return value

    def recommend(self, user, k=10):
        """The ``k`` best items for ``user`` among those the user did not rate in training, as
        ``[(item, score)]``, best first (ties: earlier item first). ``KeyError`` for an unknown
        user."""
        _, scored = self._fitted().recommend(self._user(user), int(k))
        return [(self._item_type(i), s) for i, s in scored]

    def similar_items(self, item, k=10):
        """The ``k`` items nearest to ``item`` by the cosine of their factors, the item itself
        excluded, as ``[(item, cosine)]``. ``KeyError`` for an unknown item."""
        scored = self._fitted().similar_items(self._item(item), int(k))
        return [(self._item_type(i), s) for i, s in scored]

    def seen_items(self, user):
        """The items ``user`` rated in training (never recommended to them)."""
        return [self._item_type(i) for i in self._fitted().rated_items(self._user(user))]

    def evaluate(self, test, k=10, min_rating=None):
        """Metrics on held-out ratings (the same forms ``fit`` takes), as a dict.

        For the ``"rating"`` objective: ``rmse``, ``mae``, ``baseline_rmse`` (predicting the
        mean training rating), ``count``, and how many test pairs had an unknown user, item or
        both (``unknown_user``, ``unknown_item``, ``unknown_both``: their prediction falls back
        to the known biases). For both objectives, ranking metrics: ``recall`` and ``ndcg`` at
        ``k`` over the users with a relevant test item (rated >= ``min_rating``; every test
        item when None), ranking the items each user did not rate in training; ``users``,
        ``cold_users`` (unknown users, ranked by item bias) and ``unknown_items`` (relevant
        items never seen in training: misses).
        """
        model = self._fitted()
        users, items, values = _columns(test, need_rating=self.objective == "rating")
        floor = -np.inf if min_rating is None else float(min_rating)
        return model.evaluate(users, items, values, int(k), floor)

    # -- tables ----------------------------------------------------------------------------

    @property
    def users(self):
        """The user ids, in row order (the rows of ``user_factors``)."""
        return [self._user_type(u) for u in self._fitted().users]

    @property
    def items(self):
        """The item ids, in row order (the rows of ``item_factors``)."""
        return [self._item_type(i) for i in self._fitted().items]

    @property
    def user_factors(self):
        """The user vectors [users, factors], a read-only view of the model (no copy)."""
        return self._view(self._fitted().user_factors)

    @property
    def item_factors(self):
        """The item vectors [items, factors], a read-only view of the model (no copy)."""
        return self._view(self._fitted().item_factors)

    @property
    def user_biases(self):
        """The user biases [users], a read-only view."""
        return self._view(self._fitted().user_biases)[:, 0]

    @property
    def item_biases(self):
        """The item biases [items], a read-only view."""
        return self._view(self._fitted().item_biases)[:, 0]

    @property
    def global_bias(self):
        """The global bias (the mean training rating at the start of training)."""
        return self._fitted().global_bias

    @staticmethod
    def _view(array):
        array.flags.writeable = False
        return array

    # -- files -----------------------------------------------------------------------------

    def save(self, path):
        """Saves the model (tables, ids, each user's rated items, options) in one file
        (safetensors), atomically: a failed save leaves an existing file as it was."""
        self._fitted().save(os.fspath(path))

    @classmethod
    def load(cls, path):
        """Loads a model saved by ``save`` (or by ``embedkit recommend train``)."""
        model = _embedkit.Recommender.load(os.fspath(path))
        o = model.options
        self = cls(factors=o["dim"], iterations=o["epochs"], learning_rate=o["lr"],
                   regularization=o["l2"], bias_regularization=o["l2_bias"],
                   objective=o["objective"], optimizer=o["optimizer"],
                   batch_size=o["batch_size"], init_std=o["init_std"], random_state=o["seed"])
        self._set_model(model)
        return self
