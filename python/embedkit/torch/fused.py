"""FusedEmbedding and FusedEmbeddingBag: the optimizer runs inside the backward.

As FBGEMM's table-batched embeddings (and TorchRec's fused modules) do: the backward groups the
ids by row, sums each touched row's gradient and applies the optimizer's update to that row at
once (embedkit.optim.fused_backward_step). No gradient tensor is built, ``weight.grad`` stays
None, and the dense optimizer of the rest of the model skips the table.
"""

import torch

from embedkit import _embedkit, optim
from embedkit.torch import functional as F
from embedkit.torch.modules import Embedding, EmbeddingBag

__all__ = ["FusedEmbedding", "FusedEmbeddingBag", "make_optimizer"]

# The names of the input-order (non-exact) mode of the fused step.
_INPUT_ORDER = {"approx_sgd"}

# Names an optimizer may be given by: embedkit's, torch.optim's (lower case) and FBGEMM's
# OptimType names. "sgd" is torch.optim.SGD's update, exact (FBGEMM's EXACT_SGD); "approx_sgd"
# is FBGEMM's non-exact SGD (its kernels' name for OptimType.SGD): each id's update applied
# straight into the table in input order, equal to the exact one up to float32 rounding.
_BY_NAME = {
    "sgd": optim.SGD,
    "exact_sgd": optim.SGD,
    "approx_sgd": optim.SGD,
    "adagrad": optim.Adagrad,
    "exact_adagrad": optim.Adagrad,
    "rowwise_adagrad": optim.RowWiseAdagrad,
    "row_wise_adagrad": optim.RowWiseAdagrad,
    "exact_rowwise_adagrad": optim.RowWiseAdagrad,
    "exact_row_wise_adagrad": optim.RowWiseAdagrad,
    "sparse_adam": optim.SparseAdam,
    "sparseadam": optim.SparseAdam,
    "lazy_adam": optim.LazyAdam,
    "lazyadam": optim.LazyAdam,
}
# torch.optim classes with the same update rule in embedkit.optim.
_TORCH_OPTIMIZERS = {"SGD": optim.SGD, "Adagrad": optim.Adagrad, "SparseAdam": optim.SparseAdam}


def _optimizer_class(spec):
    if isinstance(spec, str):
        cls = _BY_NAME.get(spec.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {spec!r}; fused optimizers: "
                             f"{', '.join(sorted(set(_BY_NAME)))}")
        return cls
    if isinstance(spec, type) and issubclass(spec, _embedkit.Optimizer):
        return spec
    if isinstance(spec, type) and spec.__module__.startswith("torch.optim"):
        cls = _TORCH_OPTIMIZERS.get(spec.__name__)
        if cls is None:
            raise ValueError(f"torch.optim.{spec.__name__} has no row-wise update to fuse into the "
                             f"backward; fused optimizers: SGD, Adagrad, SparseAdam, and "
                             f"embedkit.optim.RowWiseAdagrad and LazyAdam (Adam per row)")
        return cls
    return None


def make_optimizer(spec, optimizer_kwargs, params):
    """The embedkit.optim optimizer that ``spec`` names, over ``params``.

    ``spec``: a name ("sgd", "adagrad", "rowwise_adagrad", "sparse_adam", "lazy_adam", or
    FBGEMM's "exact_sgd", "approx_sgd", "exact_adagrad", "exact_rowwise_adagrad"; "approx_sgd"
    makes an SGD that the fused modules step in input order), an embedkit.optim class, a
    torch.optim class with a fused equivalent (SGD, Adagrad, SparseAdam), or a callable
    ``params -> embedkit.optim optimizer`` (with no ``optimizer_kwargs``).
    """
    kwargs = dict(optimizer_kwargs or {})
    if isinstance(spec, _embedkit.Optimizer):
        raise TypeError("optimizer must be a name, a class or a factory, not an optimizer "
                        "instance: the module's table does not exist before the module")
    cls = _optimizer_class(spec)
    if cls is not None:
        return cls(params, **kwargs)
    if callable(spec):
        if kwargs:
            raise TypeError("optimizer_kwargs are for an optimizer given by name or class; a "
                            "factory takes its own arguments")
        opt = spec(params)
        if not isinstance(opt, _embedkit.Optimizer):
            raise TypeError(f"the optimizer factory must return an embedkit.optim optimizer, got "
                            f"{type(opt).__name__}")
        return opt
    raise TypeError(f"optimizer must be a name, an embedkit.optim or torch.optim class, or a "
                    f"factory, got {spec!r}")


class _Fused:
    """What both fused modules share: the table, its optimizer and their state."""

    def _setup(self, spec, optimizer_kwargs):
        if self.weight.dtype != torch.float32:
            raise TypeError(f"a fused table must be float32 (the optimizers' type), got "
                            f"{self.weight.dtype}")
        F.check_table(self.weight)
        # False: "approx_sgd", the input-order mode (kept apart from the spec, which
        # set_learning_rate replaces).
        self._exact = not (isinstance(spec, str) and spec.lower() in _INPUT_ORDER)
        self._optimizer_spec = (spec, optimizer_kwargs)
        self._bind()
        if not self._exact:
            options = self.optimizer.defaults
            if options.get("momentum") or options.get("weight_decay"):
                raise ValueError("optimizer='approx_sgd' applies each id's update on its own, "
                                 "which equals the summed update only for SGD without momentum "
                                 "and weight decay; use optimizer='sgd' (exact) for those")

    def _bind(self):
        """embedkit's table over the weight's memory, and the optimizer over that table."""
        self.table = self._make_table(F.as_array(self.weight))
        spec, optimizer_kwargs = self._optimizer_spec
        self.optimizer = make_optimizer(spec, optimizer_kwargs, [self])
        self._table_address = self.weight.data_ptr()

    def get_learning_rate(self):
        """The optimizer's learning rate (FBGEMM's name)."""
        return self.optimizer.defaults["lr"]

    def set_learning_rate(self, lr):
        """Changes the learning rate from the next step on, keeping the optimizer's state.

        embedkit's optimizers fix their options at construction, so this builds the same
        optimizer with the new ``lr`` and moves the state over (a copy of it: cheap once per
        epoch, not meant for every step). A scheduler's value goes in here, e.g.
        ``bag.set_learning_rate(scheduler.get_last_lr()[0])``.
        """
        options = dict(self.optimizer.defaults, lr=float(lr))
        cls = type(self.optimizer)
        optimizer = cls([self], **options)
        optimizer.load_state_dict(self.optimizer.state_dict())
        self.optimizer = optimizer
        self._optimizer_spec = (cls, options)

    # copy.deepcopy and pickle (torch.save(model)): embedkit's table and optimizer are rebuilt
    # over the copy's weight, with the optimizer's state carried over.
    def __getstate__(self):
        state = super().__getstate__()
        for name in ("table", "optimizer", "_table_address"):
            state.pop(name, None)
        state["_fused_optimizer_state"] = self.get_extra_state()
        return state

    def __setstate__(self, state):
        optimizer_state = state.pop("_fused_optimizer_state")
        super().__setstate__(state)
        self._bind()
        self.set_extra_state(optimizer_state)

    def _check_table(self):
        # load_state_dict copies into the weight in place; .to(), .half(), share_memory() and
        # assigning a new Parameter replace its storage, which embedkit's table and optimizer
        # would no longer see.
        if self.weight.data_ptr() != self._table_address:
            raise RuntimeError("the weight's storage was replaced (by .to(), .half(), "
                               "share_memory() or assigning a new Parameter), so embedkit's table "
                               "and optimizer no longer see it; copy values in with "
                               "weight.data.copy_(...) or load_state_dict instead")

    def _training(self):
        return torch.is_grad_enabled() and self.weight.requires_grad

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # PyTorch copies the weight, then hands the optimizer's state to set_extra_state, and
        # records what it refuses to raise at the end: a state set_extra_state refuses would
        # leave the loaded weight with the old optimizer state, a weight of another shape the old
        # weight with the loaded state. The module is put back as it was instead, so a load that
        # fails changes neither.
        weight = self.weight.detach().clone()
        state = self.optimizer.state_dict()
        counts = (len(error_msgs), len(missing_keys), len(unexpected_keys))
        try:
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)
        except BaseException:
            self._restore(weight, state)
            raise
        errors, missing, unexpected = counts
        if (len(error_msgs) > errors
                or (strict and (len(missing_keys) > missing or len(unexpected_keys) > unexpected))):
            self._restore(weight, state)

    def _restore(self, weight, optimizer_state):
        with torch.no_grad():
            self.weight.copy_(weight)
        self.optimizer.load_state_dict(optimizer_state)

    def get_extra_state(self):
        """The optimizer's state, saved in the module's state_dict under ``_extra_state``."""
        state = self.optimizer.state_dict()
        return {"optimizer": self.optimizer.name,
                "state": {k: torch.from_numpy(v) for k, v in state.items()}}

    def set_extra_state(self, state):
        """Restores the optimizer's state from ``get_extra_state()``'s dict."""
        if not isinstance(state, dict) or "state" not in state:
            raise ValueError("the fused module's _extra_state must be the dict its state_dict() "
                             "wrote")
        if state.get("optimizer") != self.optimizer.name:
            raise ValueError(f"the state dict holds {state.get('optimizer')} state, but this "
                             f"module trains with {self.optimizer.name}")
        self.optimizer.load_state_dict(
            {k: (v.detach().cpu().contiguous() if isinstance(v, torch.Tensor) else v)
             for k, v in state["state"].items()})


def _optimizer_repr(module):
    options = ", ".join(f"{k}={v!r}" for k, v in module.optimizer.defaults.items())
    name = module.optimizer.name if module._exact else "approx_sgd"
    return f"optimizer={name}({options})"


class _FusedBagFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, per_sample_weights, module, ids, offsets, psw):
        ctx.module, ctx.ids, ctx.offsets, ctx.psw = module, ids, offsets, psw
        return torch.from_numpy(module.table.forward(ids, offsets, psw))

    @staticmethod
    def backward(ctx, grad_output):
        module = ctx.module
        grad = grad_output.contiguous().numpy()
        psw_grad = None
        if ctx.needs_input_grad[1]:
            # The per-sample weights' gradient reads the rows, so it comes before the update.
            _, psw_grad = _embedkit.embedding_bag_backward(
                ctx.ids, module.table.weight, ctx.offsets, grad, mode=module.mode,
                sparse=True, include_last_offset=module.include_last_offset,
                padding_idx=module.padding_idx, per_sample_weights=ctx.psw)
            psw_grad = torch.from_numpy(psw_grad)
        optim.fused_backward_step(module.table, ctx.ids, ctx.offsets, grad, module.optimizer,
                                  per_sample_weights=ctx.psw, exact=module._exact)
        return None, psw_grad, None, None, None, None


class FusedEmbeddingBag(_Fused, EmbeddingBag):
    """torch.nn.EmbeddingBag trained by an optimizer that runs inside the backward.

    ``FusedEmbeddingBag(num_embeddings, embedding_dim, ..., optimizer="adagrad",
    optimizer_kwargs={"lr": 0.05})`` replaces ``torch.nn.EmbeddingBag(..., sparse=True)`` plus
    ``torch.optim.Adagrad(bag.parameters(), lr=0.05)``: after ``loss.backward()`` the table has
    been updated as that optimizer's ``step()`` would have updated it (within float32
    rounding: a row's gradient is summed in input order), without the sparse gradient ever
    being built (``weight.grad`` stays None, so a dense optimizer over
    ``model.parameters()`` skips the table; do not step the table again).

    Arguments are torch.nn.EmbeddingBag's (no ``sparse``: there is no gradient) plus, as in
    TorchRec's fused modules: ``optimizer`` (a name: "sgd", "adagrad", "rowwise_adagrad",
    "sparse_adam", "lazy_adam", "approx_sgd"; an embedkit.optim class; torch.optim.SGD /
    Adagrad / SparseAdam; or a factory ``params -> optimizer``) and ``optimizer_kwargs``
    (torch.optim's names: lr, eps, betas, lr_decay, initial_accumulator_value, ...).

    "sgd" (or FBGEMM's "exact_sgd") sums each row's gradient, then steps: torch.optim.SGD's
    result. "approx_sgd" (FBGEMM's non-exact SGD) applies each id's update straight into the
    table in input order, without grouping the ids: faster, the same at every thread count,
    and within float32 rounding of "sgd" (per element at most 2 (k + 1) 2^-24 (|w| + lr sum of
    the k occurrences' |scale * grad|)); SGD without momentum and weight decay only, no
    scale_grad_by_freq.

    The optimizer's state is saved with the module: ``state_dict()`` holds ``weight`` and
    ``_extra_state`` (the optimizer's name and state tensors), and ``load_state_dict()``
    restores both, so training continues identically. ``module.optimizer`` is the
    embedkit.optim object; ``set_learning_rate(lr)`` changes its learning rate. One forward per
    step: each backward applies one update. The table is float32; mode "max" cannot be fused
    (its gradient is per column). The options (mode, padding_idx, max_norm, ...) are those given
    at construction: embedkit's table is built with them. Under ``torch.no_grad()``
    (or with ``weight.requires_grad = False``) the forward only looks up.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", _weight=None, include_last_offset=False,
                 padding_idx=None, device=None, dtype=None, *, optimizer,
                 optimizer_kwargs=None):
        super().__init__(num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq,
                         mode, False, _weight, include_last_offset, padding_idx, device, dtype)
        if mode == "max":
            raise ValueError("mode='max' cannot be fused: its gradient is per column, not per row")
        self._setup(optimizer, optimizer_kwargs)

    def _make_table(self, weight):
        return _embedkit.EmbeddingBag(
            self.num_embeddings, self.embedding_dim, max_norm=self.max_norm,
            norm_type=self.norm_type, scale_grad_by_freq=self.scale_grad_by_freq, mode=self.mode,
            weight=weight, include_last_offset=self.include_last_offset,
            padding_idx=self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", include_last_offset=False,
                        padding_idx=None, *, optimizer, optimizer_kwargs=None):
        """A fused module over ``embeddings`` (2-D float32, shared, not copied).

        torch.nn.EmbeddingBag.from_pretrained's arguments (no ``sparse``) plus the optimizer.
        ``freeze`` keeps torch's default, True: a frozen table only looks up (its weight does
        not require grad, so no backward reaches it); pass ``freeze=False`` to train it.
        """
        if embeddings.dim() != 2:
            raise ValueError("embeddings must be 2-D")
        rows, cols = embeddings.shape
        module = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, embeddings,
                     include_last_offset, padding_idx, optimizer=optimizer,
                     optimizer_kwargs=optimizer_kwargs)
        module.weight.requires_grad = not freeze
        return module

    def forward(self, input, offsets=None, per_sample_weights=None):
        self._check_table()
        ids = F.index_array(input)
        offs = F.index_array(offsets, "offsets")
        psw = None
        if per_sample_weights is not None:
            psw = F.as_array(per_sample_weights.contiguous())
        if not self._training():
            return torch.from_numpy(self.table.forward(ids, offs, psw))
        return _FusedBagFunction.apply(self.weight, per_sample_weights, self, ids, offs, psw)

    def extra_repr(self):
        return f"{super().extra_repr()}, {_optimizer_repr(self)}"


class _FusedEmbeddingFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, module, ids):
        ctx.module, ctx.ids = module, ids
        return torch.from_numpy(module.table.forward(ids))

    @staticmethod
    def backward(ctx, grad_output):
        optim.fused_backward_step(ctx.module.table, ctx.ids, grad_output.contiguous().numpy(),
                                  ctx.module.optimizer, exact=ctx.module._exact)
        return None, None, None


class FusedEmbedding(_Fused, Embedding):
    """torch.nn.Embedding trained by an optimizer that runs inside the backward.

    The Embedding counterpart of :class:`FusedEmbeddingBag`: torch.nn.Embedding's arguments (no
    ``sparse``) plus ``optimizer`` and ``optimizer_kwargs``; the optimizer state is saved with
    the module's ``state_dict()``.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, _weight=None, device=None, dtype=None,
                 *, optimizer, optimizer_kwargs=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, False, _weight, device, dtype)
        self._setup(optimizer, optimizer_kwargs)

    def _make_table(self, weight):
        return _embedkit.Embedding(self.num_embeddings, self.embedding_dim,
                                   padding_idx=self.padding_idx, max_norm=self.max_norm,
                                   norm_type=self.norm_type,
                                   scale_grad_by_freq=self.scale_grad_by_freq, weight=weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, *, optimizer,
                        optimizer_kwargs=None):
        """A fused module over ``embeddings`` (2-D float32, shared, not copied).

        torch.nn.Embedding.from_pretrained's arguments (no ``sparse``) plus the optimizer;
        ``freeze`` keeps torch's default, True (look up only); ``freeze=False`` trains it.
        """
        if embeddings.dim() != 2:
            raise ValueError("embeddings must be 2-D")
        rows, cols = embeddings.shape
        module = cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                     embeddings, optimizer=optimizer, optimizer_kwargs=optimizer_kwargs)
        module.weight.requires_grad = not freeze
        return module

    def forward(self, input):
        self._check_table()
        ids = F.index_array(input)
        if not self._training():
            return torch.from_numpy(self.table.forward(ids))
        return _FusedEmbeddingFunction.apply(self.weight, self, ids)

    def extra_repr(self):
        return f"{super().extra_repr()}, {_optimizer_repr(self)}"
