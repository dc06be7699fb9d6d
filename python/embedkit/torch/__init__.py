"""embedkit.torch: PyTorch modules whose embedding lookups and training run in embedkit.

Swap one module in a training loop::

    import torch
    import embedkit.torch

    # before: bag = torch.nn.EmbeddingBag(1_000_000, 64, mode="sum", sparse=True)
    #         opt_sparse = torch.optim.Adagrad(bag.parameters(), lr=0.05)
    bag = embedkit.torch.FusedEmbeddingBag(1_000_000, 64, mode="sum",
                                           optimizer="adagrad", optimizer_kwargs={"lr": 0.05})
    head = torch.nn.Linear(64, 1)
    opt = torch.optim.SGD(head.parameters(), lr=0.1)      # the dense part, as before

    for ids, offsets, y in batches:                        # ids int64 [n], offsets [B]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            head(bag(ids, offsets)).squeeze(1), y)
        opt.zero_grad()
        loss.backward()      # also updates bag's rows: no sparse gradient, bag.weight.grad None
        opt.step()

    torch.save(bag.state_dict(), "bag.pt")                 # weight + Adagrad's state

Several tables (one per sparse feature), one call, one backward::

    ebc = embedkit.torch.FusedEmbeddingBagCollection(
        [embedkit.torch.EmbeddingBagConfig(1_000_000, 64, name=f"f{i}") for i in range(8)],
        optimizer="rowwise_adagrad", optimizer_kwargs={"lr": 0.01})
    pooled = ebc([(ids_i, offsets_i) for ids_i, offsets_i in features])   # [B, 8 * 64]

The modules:

- :class:`Embedding`, :class:`EmbeddingBag`: torch.nn.Embedding / EmbeddingBag (subclasses,
  same arguments, same results within docs/conformance.md) computed by embedkit, with
  autograd (``sparse=True`` gives PyTorch's sparse gradient). :func:`embedding` and
  :func:`embedding_bag` are the functional forms.
- :class:`FusedEmbedding`, :class:`FusedEmbeddingBag`: the optimizer (``"sgd"``,
  ``"adagrad"``, ``"rowwise_adagrad"``, ``"sparse_adam"``, ``"lazy_adam"``, or
  torch.optim.SGD / Adagrad / SparseAdam, with torch.optim's keyword arguments in
  ``optimizer_kwargs``) runs inside the backward; its state is in the module's state_dict.
- :class:`FusedEmbeddingBagCollection` of :class:`EmbeddingBagConfig` tables: one [B, sum D]
  output.

Threads: ``embedkit.set_num_threads(n)`` is ``torch.set_num_threads(n)``'s counterpart; with
several PyTorch threads, start Python with ``OMP_WAIT_POLICY=PASSIVE``, or libgomp's threads,
spinning after each PyTorch operation, hold the cores the fused backward needs next.

Every ``weight`` is a ``torch.nn.Parameter`` that embedkit reads and updates in place, without
copies; outputs are tensors over embedkit's buffers. Tables live on the CPU. The backward
releases the GIL, so it runs from any thread, autograd's included.
"""

from embedkit.torch.collection import EmbeddingBagConfig, FusedEmbeddingBagCollection
from embedkit.torch.functional import embedding, embedding_bag
from embedkit.torch.fused import FusedEmbedding, FusedEmbeddingBag
from embedkit.torch.modules import Embedding, EmbeddingBag

__all__ = ["Embedding", "EmbeddingBag", "FusedEmbedding", "FusedEmbeddingBag",
           "FusedEmbeddingBagCollection", "EmbeddingBagConfig", "embedding", "embedding_bag"]
