"""embedkit.torch.Embedding and EmbeddingBag: PyTorch's modules, computed by embedkit."""

import torch

from embedkit import _embedkit
from embedkit.torch import functional as F

__all__ = ["Embedding", "EmbeddingBag"]


def check_device(device):
    if device is not None and torch.device(device).type != "cpu":
        raise ValueError(f"device must be None or 'cpu' (embedkit is a CPU library), got "
                         f"{device!r}")


def table_view(module):
    """The NumPy view of ``module.weight`` that embedkit reads, made once per weight storage.

    Cached with the Parameter and its address: assigning a new Parameter, ``.to()`` or
    ``load_state_dict`` of another shape gives a new view; a copy of the module (deepcopy,
    pickle) finds a different address and makes its own.
    """
    weight = module.weight
    cache = module.__dict__.get("_embedkit_view")
    address = weight.data_ptr()
    if cache is None or cache[0] is not weight or cache[1] != address:
        F.check_table(weight)
        cache = (weight, address, F.as_array(weight))
        object.__setattr__(module, "_embedkit_view", cache)
    return cache[2]


def new_table(num_embeddings, embedding_dim, dtype):
    """An uninitialised table for a module's weight in embedkit's memory, or None where torch
    should allocate it (arguments torch refuses or a dtype embedkit has no table of: torch then
    raises its own error, or check_table ours).

    embedkit asks for transparent huge pages from 32 MiB up (core/memory.hpp): a random row of a
    large table then costs no page walk, which torch's allocator does not arrange. The numbers
    are drawn into it afterwards by the module's reset_parameters(), as torch draws them.
    """
    names = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if (dtype not in names or not isinstance(num_embeddings, int) or
            not isinstance(embedding_dim, int) or num_embeddings < 0 or embedding_dim < 0):
        return None
    array = _embedkit.empty_table(num_embeddings, embedding_dim, names[dtype])
    table = torch.from_numpy(array)
    return table.view(torch.bfloat16) if dtype == torch.bfloat16 else table


class _TableView:
    """Copies and pickles of a module leave the NumPy view out (a copy makes its own)."""

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_embedkit_view", None)
        return state


class Embedding(_TableView, torch.nn.Embedding):
    """torch.nn.Embedding whose forward and backward run in embedkit.

    A drop-in replacement: the same constructor (``num_embeddings, embedding_dim,
    padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False,
    _weight=None, device=None, dtype=None``), ``from_pretrained``, attributes, ``state_dict``
    (``{"weight"}``) and results (within docs/conformance.md). It is a ``torch.nn.Embedding``
    (isinstance holds), and its ``weight`` is an ordinary ``torch.nn.Parameter``, drawn as
    PyTorch draws it (the same numbers under the same ``torch.manual_seed``), that embedkit reads
    and writes in place: no copy crosses the boundary. ``sparse=True`` gives a sparse COO gradient
    like PyTorch's, for ``torch.optim.SparseAdam`` / ``SGD`` / ``Adagrad``.

    Tables are float32, float16 or bfloat16 on the CPU. An out-of-range id raises IndexError
    naming its position (PyTorch: "index out of range in self").
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 device=None, dtype=None):
        check_device(device)
        own = new_table(num_embeddings, embedding_dim, dtype) if _weight is None else None
        _weight = _weight if own is None else own
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, _weight, device, dtype)
        if own is not None:
            self.reset_parameters()  # torch's draw, into embedkit's memory

    def forward(self, input):
        weight = self.weight
        return F.embedding_call(weight, table_view(self), F.index_array(input), (
            F.padding_row(self.padding_idx, weight.shape[0]), self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.sparse))


class EmbeddingBag(_TableView, torch.nn.EmbeddingBag):
    """torch.nn.EmbeddingBag whose forward and backward run in embedkit.

    A drop-in replacement: the same constructor (``num_embeddings, embedding_dim,
    max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode='mean', sparse=False,
    _weight=None, include_last_offset=False, padding_idx=None, device=None, dtype=None``),
    ``forward(input, offsets=None, per_sample_weights=None)``, ``from_pretrained``, attributes
    and ``state_dict`` (``{"weight"}``). The ``weight`` is an ordinary ``torch.nn.Parameter``
    (drawn as PyTorch draws it) that embedkit reads in place, without a copy; the bags are
    reduced without building the per-id rows. ``sparse=True`` gives PyTorch's sparse gradient.

    Differences from PyTorch are those of docs/conformance.md, all on the side of safety: bad
    offsets are a ValueError, out-of-range ids an IndexError naming the position, and
    ``scale_grad_by_freq`` divides by each row's own count (PyTorch 1.13 uses another row's).
    For training with the optimizer inside the backward, see :class:`FusedEmbeddingBag`.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        check_device(device)
        own = new_table(num_embeddings, embedding_dim, dtype) if _weight is None else None
        _weight = _weight if own is None else own
        super().__init__(num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq,
                         mode, sparse, _weight, include_last_offset, padding_idx, device, dtype)
        if own is not None:
            self.reset_parameters()  # torch's draw, into embedkit's memory

    def forward(self, input, offsets=None, per_sample_weights=None):
        weight = self.weight
        options = (self.mode, self.max_norm, float(self.norm_type), self.scale_grad_by_freq,
                   self.sparse, self.include_last_offset,
                   F.padding_row(self.padding_idx, weight.shape[0]))
        return F.embedding_bag_call(weight, table_view(self), F.index_array(input),
                                    F.index_array(offsets, "offsets"), options,
                                    per_sample_weights)
