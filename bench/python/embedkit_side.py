"""embedkit's side of the Python benchmarks: the fused modules of embedkit.torch, as a user
swapping them into a PyTorch model would write them.
"""

import torch

import embedkit.torch as ekt

# The benchmark's optimizer names -> embedkit.torch's (torch.optim's update rules).
# "approx_sgd": the input-order SGD (FBGEMM's non-exact one), against torch's SGD.
FUSED_OPTIMIZER = {"sgd": "sgd", "approx_sgd": "approx_sgd", "adagrad": "adagrad",
                   "sparse_adam": "sparse_adam"}


class EmbedkitBags(torch.nn.Module):
    """The embeddings of a benchmark model in embedkit: one `FusedEmbeddingBag` for one table,
    a `FusedEmbeddingBagCollection` for several; forward returns the pooled rows concatenated,
    as models.TorchBags does.

    The modules build their own tables, as a user's model does (embedkit's memory, on huge
    pages from 32 MiB up), and `weights` are copied into them one at a time, each dropped from
    the list once copied, so that no more than one extra table is alive. (`from_pretrained`
    would share the given tensor instead, torch's allocation on 4 KiB pages.)
    """

    def __init__(self, weights, mode, optimizer, lr):
        super().__init__()
        kwargs = dict(optimizer=FUSED_OPTIMIZER[optimizer], optimizer_kwargs={"lr": lr})
        rows, dim = weights[0].shape
        if len(weights) == 1:
            self.single = ekt.FusedEmbeddingBag(rows, dim, mode=mode, **kwargs)
            self.collection = None
            tables = [self.single]
        else:
            self.single = None
            self.collection = ekt.FusedEmbeddingBagCollection(
                [ekt.EmbeddingBagConfig(rows, dim, name=f"t{i}", mode=mode)
                 for i in range(len(weights))], **kwargs)
            tables = list(self.collection.embedding_bags.values())
        for table in tables:
            with torch.no_grad():
                table.weight.copy_(weights.pop(0))

    def forward(self, features):
        if self.single is not None:
            return self.single(features[0].ids, features[0].offsets)
        return self.collection([(f.ids, f.offsets) for f in features])

    def weights(self):
        if self.single is not None:
            return [self.single.weight]
        return [table.weight for table in self.collection.embedding_bags.values()]


def tiny_modules(weight):
    """embedkit.torch's modules over copies of `weight` (mode 'mean'), for call_overhead.py."""
    return {
        "embedkit.torch.EmbeddingBag": ekt.EmbeddingBag.from_pretrained(weight.clone(),
                                                                         freeze=False),
        "embedkit.torch.FusedEmbeddingBag (sgd)": ekt.FusedEmbeddingBag.from_pretrained(
            weight.clone(), freeze=False, optimizer="sgd", optimizer_kwargs={"lr": 0.01}),
    }
