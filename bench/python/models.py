"""The two models of the training benchmark, each built twice: embeddings from PyTorch
(`torch.nn.EmbeddingBag(sparse=True)` and a torch.optim optimizer) or from embedkit (the fused
modules of `embedkit.torch`, whose optimizer runs inside the backward).

Both sides start from the same weights (copied, not shared), have the same dense part (a copy of
the same torch module, trained by the same torch.optim optimizer) and the same hyper-parameters.
"""

import copy

import torch

import harness

# The optimizers compared: torch's class for the embeddings, torch's class for the dense part,
# and their shared keyword arguments. SparseAdam is torch's Adam for sparse gradients (it updates
# only the rows seen, "lazy" Adam); the dense part then uses Adam with the same settings.
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, torch.optim.SGD),
    # embedkit's input-order SGD (FBGEMM's approx_sgd) against the same torch.optim.SGD.
    "approx_sgd": (torch.optim.SGD, torch.optim.SGD),
    "adagrad": (torch.optim.Adagrad, torch.optim.Adagrad),
    "sparse_adam": (torch.optim.SparseAdam, torch.optim.Adam),
}


class TorchBags(torch.nn.Module):
    """One `torch.nn.EmbeddingBag(sparse=True)` per feature; forward concatenates the pooled
    rows of every table ([batch, tables * dim])."""

    def __init__(self, weights, mode):
        super().__init__()
        self.tables = torch.nn.ModuleList(
            torch.nn.EmbeddingBag.from_pretrained(w, freeze=False, mode=mode, sparse=True)
            for w in weights)

    def forward(self, features):
        pooled = [table(f.ids, f.offsets) for table, f in zip(self.tables, features)]
        return pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=1)

    def weights(self):
        return [table.weight for table in self.tables]


def embedkit_bags(weights, mode, optimizer, lr):
    """embedkit's fused module over copies of `weights`, its optimizer inside the backward."""
    from embedkit_side import EmbedkitBags  # noqa: PLC0415 (needs embedkit; torch-only runs not)
    return EmbedkitBags(weights, mode, optimizer, lr)


class Trainer:
    """One side of the comparison: embeddings (`bags`), the dense `head`, the loss and the
    optimizers; `step(batch)` is one training step and returns the loss."""

    def __init__(self, bags, head, loss_fn, optimizers, fused):
        self.bags, self.head, self.loss_fn = bags, head, loss_fn
        self.optimizers = optimizers  # torch.optim optimizers stepped after backward
        self.fused = fused            # True: the embeddings update themselves in backward

    def zero_grad(self):
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    def step(self, batch):
        self.zero_grad()
        loss = self.loss_fn(self.head(self.bags(batch.features)), batch.target)
        loss.backward()
        for opt in self.optimizers:
            opt.step()
        return loss.detach()

    def phases(self, batch, clock):
        """The same step, cut into phases timed by `clock()`; returns {phase: seconds}."""
        self.zero_grad()
        t0 = clock()
        pooled = self.bags(batch.features)
        t1 = clock()
        detached = pooled.detach().requires_grad_()
        loss = self.loss_fn(self.head(detached), batch.target)
        loss.backward()
        t2 = clock()
        pooled.backward(detached.grad)
        t3 = clock()
        times = {"embedding forward": t1 - t0, "dense forward + backward": t2 - t1,
                 "embedding backward" + (" + update (fused)" if self.fused else ""): t3 - t2}
        for opt in self.optimizers:
            start = clock()
            opt.step()
            times[opt.label] = clock() - start
        return times


def _optimizers(kind, lr, dense_params, sparse_params):
    sparse_cls, dense_cls = OPTIMIZERS[kind]
    dense = dense_cls(dense_params, lr=lr)
    dense.label = "dense optimizer step"
    if sparse_params is None:
        return [dense]
    sparse = sparse_cls(sparse_params, lr=lr)
    sparse.label = "embedding optimizer step"
    return [sparse, dense]


def make_trainer(side, weights, head, loss_fn, mode, optimizer, lr, own=False,
                 huge_pages=False):
    """A Trainer for `side` ('torch' or 'embedkit') over a copy of `head` and of `weights` (or
    `weights` themselves when `own`: the last side built takes them, so that a run holds two
    copies of the tables, not three). `huge_pages`: torch's tables copied onto transparent huge
    pages (harness.huge_page_clone), a control; embedkit's modules put theirs there anyway."""
    head = copy.deepcopy(head)
    if side == "torch":
        if huge_pages:
            weights = [harness.huge_page_clone(w) for w in weights]
        elif not own:
            weights = [w.clone() for w in weights]
        bags = TorchBags(weights, mode)
        return Trainer(bags, head, loss_fn,
                       _optimizers(optimizer, lr, head.parameters(), bags.parameters()), False)
    if side == "embedkit":
        bags = embedkit_bags(weights if own else [w.clone() for w in weights], mode, optimizer,
                             lr)
        return Trainer(bags, head, loss_fn, _optimizers(optimizer, lr, head.parameters(), None),
                       True)
    raise ValueError(f"unknown side {side!r}")


def dlrm_head(tables, dim, hidden):
    """DLRM's top MLP over the concatenated pooled embeddings: tables*dim -> hidden... -> 1."""
    layers, width = [], tables * dim
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers += [torch.nn.Linear(width, 1), Squeeze()]
    return torch.nn.Sequential(*layers)


class Squeeze(torch.nn.Module):
    def forward(self, x):
        return x.squeeze(1)


def text_head(dim, classes):
    """fastText's output layer: a linear map from the averaged embedding to the class logits."""
    return torch.nn.Linear(dim, classes)


def uniform_tables(count, rows, dim, bound, seed):
    """`count` tables [rows, dim] drawn from U(-bound, bound) with a fixed seed."""
    g = torch.Generator().manual_seed(seed)
    return [torch.empty(rows, dim).uniform_(-bound, bound, generator=g) for _ in range(count)]
