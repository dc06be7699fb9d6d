"""embedkit.optim: optimizers for embedding tables, fused into the backward.

torch.optim's update rules (SGD, Adagrad, SparseAdam), FBGEMM's row-wise Adagrad and a lazy
Adam, with torch.optim's argument names and defaults. Each optimizer updates its tables in
place, and :func:`fused_backward_step` runs one step inside the backward of an embedding
lookup, so the table's gradient is never built::

    import numpy as np
    import embedkit

    emb = embedkit.nn.EmbeddingBag(1000, 16, mode="sum")
    opt = embedkit.optim.Adagrad([emb], lr=0.1)           # one parameter, "weight"
    ids = np.array([[1, 2], [3, 4]])
    out = emb(ids)                                         # (2, 16)
    grad_out = np.ones_like(out)                           # d loss / d out
    embedkit.optim.fused_backward_step(emb, ids, None, grad_out, opt)  # rows 1-4 updated
    opt.state_dict()      # {"weight.step": array(1.), "weight.sum": array([[...]])}

Parameters (``params``) may be given as embedkit modules (``embedkit.nn`` or ``embedkit.torch``:
their table, with its padding row, which never moves), float32 NumPy arrays or PyTorch tensors
(shared, updated in place), ``(name, table)`` pairs such as ``model.named_parameters()`` gives,
or a dict ``{name: table}``. Names key the state dict: ``"<name>.<state>"``. A lone module's
table is named ``"weight"``; otherwise a table is named by its position (``"0"``, ``"1"``, and
``"0.weight"`` for a module), as torch.optim numbers its parameters.

Outside the fused backward, :meth:`Optimizer.step` takes explicit gradients (embedkit has no
autograd), or reads ``.grad`` of PyTorch parameters as torch.optim does.
"""

from embedkit import _embedkit

__all__ = ["Optimizer", "SGD", "Adagrad", "RowWiseAdagrad", "SparseAdam", "LazyAdam",
           "fused_backward_step"]

Optimizer = _embedkit.Optimizer


def _is_torch_tensor(x):
    return type(x).__module__.startswith("torch") and hasattr(x, "data_ptr")


def _table_of(obj):
    """(table, padding_idx) for a module (anything with a ``weight`` table), else (obj, None)."""
    weight = getattr(obj, "weight", None)
    if weight is not None and not hasattr(obj, "__array_interface__") and \
            not _is_torch_tensor(obj):
        return weight, getattr(obj, "padding_idx", None)
    return obj, None


def _named(name, obj):
    table, padding_idx = _table_of(obj)
    if table is not obj:
        name = f"{name}.weight" if name else "weight"
    return name, table, padding_idx


def _parameters(params):
    """(specs for the compiled class, the tables as given) from what a user passes."""
    if isinstance(params, dict):
        items = [_named(str(k), v) for k, v in params.items()]
    else:
        if _is_torch_tensor(params) or hasattr(params, "__array_interface__") or \
                hasattr(params, "weight"):
            raise TypeError("params must be an iterable of tables or modules (got one object: "
                            "wrap it in a list)")
        given = list(params)
        if not given:
            raise ValueError("optimizer got an empty parameter list")
        items = []
        for i, p in enumerate(given):
            if isinstance(p, dict):
                raise TypeError("parameter groups (dicts) are not supported: embedkit's "
                                "optimizers take one set of options")
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                items.append(_named(p[0], p[1]))
            elif len(given) == 1 and _table_of(p)[0] is not p:
                items.append(_named("", p))
            else:
                items.append(_named(str(i), p))
    return [(name, _writeable(table), pad) for name, table, pad in items], \
        [t for _, t, _ in items]


def _writeable(table):
    """A CPU PyTorch tensor as its NumPy view (no copy; quicker than DLPack)."""
    if _is_torch_tensor(table) and table.device.type == "cpu":
        return table.detach().numpy()
    return table


def _torch_grad(grad):
    """A torch gradient as what Optimizer._step takes: dense array or (indices, values)."""
    if grad is None:
        return None
    if grad.is_sparse:
        if grad.sparse_dim() != 1:
            raise ValueError("a sparse gradient must have one sparse dimension (rows)")
        return (grad._indices()[0].contiguous().numpy(),
                grad._values().detach().contiguous().numpy())
    return grad.detach().contiguous().numpy()


class _Params:
    """Mixin: keeps the tables as given, for step() to read PyTorch's ``.grad``."""

    def _keep(self, tables):
        self._tables = tables

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{self.name}(params={self.param_names}, {options})"

    def step(self, grads=None):
        """One optimizer step.

        ``grads[i]`` is parameter i's gradient: None (no gradient: the parameter and its state
        are left alone, as PyTorch skips a parameter whose ``.grad`` is None), a dense array of
        the table's shape, a row-sparse ``(indices, values)`` pair (``values[k]`` is added to
        row ``indices[k]``; rows may repeat), or a PyTorch sparse COO tensor. Without
        ``grads``, reads ``.grad`` of each parameter, which must then be PyTorch tensors.
        Every gradient is checked before anything changes. Releases the GIL.
        """
        if grads is None:
            if not all(_is_torch_tensor(t) for t in self._tables):
                raise ValueError("step() without grads reads .grad, so every parameter must be a "
                                 "PyTorch tensor; pass grads=[...] for arrays and modules")
            grads = [t.grad for t in self._tables]
        grads = [_torch_grad(g) if _is_torch_tensor(g) else g for g in grads]
        self._step(grads)

    def zero_grad(self, set_to_none=True):
        """Clears ``.grad`` of the parameters that are PyTorch tensors (as torch.optim does)."""
        for t in self._tables:
            if _is_torch_tensor(t) and t.grad is not None:
                if set_to_none:
                    t.grad = None
                else:
                    t.grad.detach_()
                    t.grad.zero_()


class SGD(_Params, _embedkit.SGD):
    """torch.optim.SGD: ``w -= lr * g`` (with momentum, Nesterov, weight decay as in PyTorch).

    Fused into the backward only without momentum and weight decay (those move rows the batch
    did not touch). Sparse gradients are refused with weight_decay > 0, as in PyTorch. With
    momentum, embedkit keeps a dense buffer where PyTorch keeps a growing sparse one (same
    values up to rounding).
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        specs, tables = _parameters(params)
        _embedkit.SGD.__init__(self, specs, lr, momentum, dampening, weight_decay, nesterov,
                               maximize=maximize)
        self._keep(tables)


class Adagrad(_Params, _embedkit.Adagrad):
    """torch.optim.Adagrad: per-element sums of squared gradients scale the step.

    ``sum += g * g;  w -= clr * g / (sqrt(sum) + eps)``, ``clr = lr / (1 + (step - 1) * lr_decay)``.
    State: ``"<param>.step"`` and ``"<param>.sum"`` (PyTorch's names). Fused without weight decay.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        specs, tables = _parameters(params)
        _embedkit.Adagrad.__init__(self, specs, lr, lr_decay, weight_decay,
                                   initial_accumulator_value, eps, maximize=maximize)
        self._keep(tables)


class RowWiseAdagrad(_Params, _embedkit.RowWiseAdagrad):
    """FBGEMM's EXACT_ROWWISE_ADAGRAD (TorchRec's default for tables): one accumulator per row.

    ``s_r += mean_j(g_rj ** 2);  w_r -= lr * g_r / (sqrt(s_r) + eps)``: a state D times smaller
    than Adagrad's. ``weight_decay_mode`` is ``"l2"`` (the decay enters the gradient) or
    ``"decoupled"`` (``w_r *= 1 - lr * weight_decay``), FBGEMM's WeightDecayMode. eps defaults to
    FBGEMM's 1e-8. State: ``"<param>.sum"`` (one float per row).
    """

    def __init__(self, params, lr=1e-2, eps=1e-8, weight_decay=0.0, weight_decay_mode="l2"):
        specs, tables = _parameters(params)
        _embedkit.RowWiseAdagrad.__init__(self, specs, lr, eps, weight_decay, weight_decay_mode)
        self._keep(tables)


class SparseAdam(_Params, _embedkit.SparseAdam):
    """torch.optim.SparseAdam: Adam on the rows a sparse gradient touches (PyTorch 1.13's rule).

    Untouched rows keep their values and moments; the bias correction uses the parameter's
    global step count. Dense gradients are refused, as in PyTorch. State: ``"<param>.step"``,
    ``"<param>.exp_avg"``, ``"<param>.exp_avg_sq"`` after the first step.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        specs, tables = _parameters(params)
        _embedkit.SparseAdam.__init__(self, specs, lr, tuple(betas), eps, maximize)
        self._keep(tables)


class LazyAdam(_Params, _embedkit.LazyAdam):
    """Adam row by row, each row with its own step count (TensorFlow Addons' LazyAdam).

    A touched row gets exactly torch.optim.Adam's update with its own count ``t_r``, so a row
    first seen late moves by about ``lr`` (SparseAdam's global count gives it a different
    correction). Dense gradients touch every row (then equal to Adam). State:
    ``"<param>.step"`` (int64, one per row), ``"<param>.exp_avg"``, ``"<param>.exp_avg_sq"``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        specs, tables = _parameters(params)
        _embedkit.LazyAdam.__init__(self, specs, lr, tuple(betas), eps, maximize)
        self._keep(tables)


def _native(module):
    """The compiled embedkit module behind an embedkit.nn or embedkit.torch module."""
    for native in (module, getattr(module, "_impl", None), getattr(module, "table", None)):
        if isinstance(native, (_embedkit.Embedding, _embedkit.EmbeddingBag)):
            return native
        inner = getattr(native, "_impl", None)
        if isinstance(inner, (_embedkit.Embedding, _embedkit.EmbeddingBag)):
            return inner
    raise TypeError(f"fused_backward_step: module must be an embedkit Embedding or EmbeddingBag, "
                    f"got {type(module).__name__}")


def fused_backward_step(module, ids, *args, **kwargs):
    """The backward of an embedding lookup fused with one optimizer step.

    ``fused_backward_step(embedding, ids, grad_output, optimizer)`` or
    ``fused_backward_step(bag, ids, offsets, grad_output, optimizer, per_sample_weights=None)``
    (offsets None for 2-D ids): the rows the ids touch are updated exactly as
    ``backward`` + coalesce + ``optimizer.step`` would update them, but each row's gradient is
    summed and applied at once, so the table's gradient is never built.

    ``module`` is an embedkit.nn (or embedkit.torch) Embedding or EmbeddingBag whose table is one
    of the optimizer's parameters. Fused optimizers: SGD (no momentum, no weight decay),
    Adagrad (no weight decay), RowWiseAdagrad, SparseAdam, LazyAdam; others raise ValueError, as
    do EmbeddingBag's max mode and a frozen table. Everything is checked before anything
    changes. Releases the GIL while it runs. per_sample_weights scale each id's contribution;
    their own gradient is not computed here.

    ``exact=False`` (keyword only) is the input-order mode, FBGEMM's non-exact SGD
    ("approx_sgd"): each id's update goes straight into the table in input order, without
    grouping the ids first; the same result at every thread count, within float32 rounding of
    the exact one (per element at most 2 (k + 1) 2^-24 (|w| + lr * sum of the row's k
    occurrences' |scale * grad|)). SGD without momentum and weight decay only (ValueError
    otherwise, and for scale_grad_by_freq).
    """
    return _embedkit.fused_backward_step(_native(module), ids, *args, **kwargs)

