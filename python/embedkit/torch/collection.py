"""FusedEmbeddingBagCollection: several fused tables, one call, one backward."""

import dataclasses
from typing import Callable, Optional

import torch

from embedkit.torch.fused import FusedEmbeddingBag

__all__ = ["EmbeddingBagConfig", "FusedEmbeddingBagCollection"]


@dataclasses.dataclass
class EmbeddingBagConfig:
    """One table of a :class:`FusedEmbeddingBagCollection` (after TorchRec's EmbeddingBagConfig).

    ``name`` keys the table (``collection.embedding_bags[name]``, the state_dict and a dict
    input); ``mode`` is torch.nn.EmbeddingBag's ("sum", TorchRec's default pooling, or "mean").
    ``init_fn`` (TorchRec's name) initialises the table in place, e.g.
    ``lambda w: w.copy_(pretrained)`` or ``torch.nn.init.uniform_``; it runs once, under
    ``torch.no_grad()``, on the weight the fused table shares. Default: torch's N(0, 1).
    """

    num_embeddings: int
    embedding_dim: int
    name: str = ""
    mode: str = "sum"
    padding_idx: Optional[int] = None
    include_last_offset: bool = False
    max_norm: Optional[float] = None
    norm_type: float = 2.0
    init_fn: Optional[Callable[[torch.Tensor], object]] = None


def _config(spec, index):
    if isinstance(spec, EmbeddingBagConfig):
        config = dataclasses.replace(spec)
    elif isinstance(spec, dict):
        config = EmbeddingBagConfig(**spec)
    elif isinstance(spec, (tuple, list)) and len(spec) == 2:
        config = EmbeddingBagConfig(int(spec[0]), int(spec[1]))
    else:
        raise TypeError(f"tables[{index}] must be an EmbeddingBagConfig, a dict of its fields or "
                        f"a (num_embeddings, embedding_dim) pair, got {spec!r}")
    if not config.name:
        config.name = f"t{index}"
    if "." in config.name:
        raise ValueError(f"table name {config.name!r} must not contain '.' (it keys the "
                         f"state_dict)")
    return config


class FusedEmbeddingBagCollection(torch.nn.Module):
    """Several embedding tables trained with the optimizer inside one backward.

    A recommender has one table per sparse feature; this module holds them all, looks every
    feature up in one call and returns the pooled vectors concatenated, as TorchRec's
    ``KeyedTensor.values()`` does::

        ebc = FusedEmbeddingBagCollection(
            [EmbeddingBagConfig(1_000_000, 64, name="user"),
             EmbeddingBagConfig(50_000, 32, name="item", mode="mean")],
            optimizer="rowwise_adagrad", optimizer_kwargs={"lr": 0.01})
        pooled = ebc({"user": (ids_u, offsets_u), "item": (ids_i, offsets_i)})  # [B, 64 + 32]
        user, item = ebc.split(pooled)                                          # views

    ``tables``: EmbeddingBagConfig objects (or dicts of their fields, or ``(num_embeddings,
    embedding_dim)`` pairs; unnamed tables are called "t0", "t1", ...). ``optimizer`` and
    ``optimizer_kwargs``: as for :class:`FusedEmbeddingBag` (TorchRec's
    ``FusedEmbeddingBagCollection(tables, optimizer_type, optimizer_kwargs)``); every table gets
    its own instance, which for these per-parameter optimizers equals one optimizer over all the
    tables.

    The input is a list (table order) or a dict (by name) with one entry per table: a 2-D ids
    tensor [B, L], or ``(ids, offsets)``, or ``(ids, offsets, per_sample_weights)`` (mode
    "sum"). Every table must give the same number of bags B. The output is one [B, sum of the
    dims] tensor, the tables' outputs side by side in table order: the layout a model's
    interaction layer consumes (DLRM views it as [B, tables, D] when the dims are equal) with
    no per-table tensors to concatenate in Python. ``split(output)`` gives the per-table views.

    ``loss.backward()`` updates every table (each row touched by its batch once, no gradient
    built); ``state_dict()`` holds each table's weight and optimizer state
    (``embedding_bags.<name>.weight``, ``embedding_bags.<name>._extra_state``).
    """

    def __init__(self, tables, *, optimizer, optimizer_kwargs=None, device=None):
        super().__init__()
        configs = [_config(spec, i) for i, spec in enumerate(tables)]
        if not configs:
            raise ValueError("FusedEmbeddingBagCollection needs at least one table")
        names = [c.name for c in configs]
        if len(set(names)) != len(names):
            raise ValueError(f"table names must be distinct, got {names}")
        self.configs = configs
        self.embedding_bags = torch.nn.ModuleDict({
            c.name: FusedEmbeddingBag(
                c.num_embeddings, c.embedding_dim, max_norm=c.max_norm, norm_type=c.norm_type,
                mode=c.mode, include_last_offset=c.include_last_offset,
                padding_idx=c.padding_idx, device=device, optimizer=optimizer,
                optimizer_kwargs=optimizer_kwargs)
            for c in configs})
        with torch.no_grad():
            for c in configs:
                if c.init_fn is not None:
                    c.init_fn(self.embedding_bags[c.name].weight)

    @property
    def table_names(self):
        """The tables' names, in order (the output's column blocks)."""
        return [c.name for c in self.configs]

    @property
    def embedding_dims(self):
        """Each table's embedding_dim, in order (the widths of the output's column blocks)."""
        return [c.embedding_dim for c in self.configs]

    def _entries(self, features):
        if isinstance(features, dict):
            missing = [n for n in self.table_names if n not in features]
            unknown = [k for k in features if k not in self.embedding_bags]
            if missing or unknown:
                raise KeyError(f"features must name every table once: missing {missing}, "
                               f"unknown {unknown}")
            return [features[n] for n in self.table_names]
        features = list(features)
        if len(features) != len(self.configs):
            raise ValueError(f"got {len(features)} features for {len(self.configs)} tables")
        return features

    def forward(self, features):
        """The pooled vectors of every table, concatenated: a [B, sum of dims] tensor."""
        outputs = []
        for name, entry in zip(self.table_names, self._entries(features)):
            if isinstance(entry, torch.Tensor):
                entry = (entry,)
            outputs.append(self.embedding_bags[name](*entry))
        batch = {o.shape[0] for o in outputs}
        if len(batch) != 1:
            raise ValueError(f"every table must give the same number of bags, got "
                             f"{[o.shape[0] for o in outputs]}")
        return torch.cat(outputs, dim=1)

    def load_state_dict(self, state_dict, strict=True):
        """torch.nn.Module.load_state_dict, for every table or none.

        Each table already puts itself back when its own entries fail; a load that fails on one
        table would still leave the tables before and after it loaded. So every table's weight
        and optimizer state is copied first (the load holds a second copy of the tables while it
        runs) and put back when the load raises: a load that fails changes no table.
        """
        saved = {name: (bag.weight.detach().clone(), bag.optimizer.state_dict())
                 for name, bag in self.embedding_bags.items()}
        try:
            return super().load_state_dict(state_dict, strict)
        except BaseException:
            for name, bag in self.embedding_bags.items():
                bag._restore(*saved[name])
            raise

    def set_learning_rate(self, lr):
        """Changes every table's learning rate (see FusedEmbeddingBag.set_learning_rate)."""
        for bag in self.embedding_bags.values():
            bag.set_learning_rate(lr)

    def split(self, output):
        """The per-table blocks of forward()'s output, as views, in table order."""
        return list(torch.split(output, self.embedding_dims, dim=1))

    def extra_repr(self):
        return f"tables={self.table_names}"
