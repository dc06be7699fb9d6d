"""``Embedding`` and ``EmbeddingBag``: tables with PyTorch's constructor, forward and names.

The modules hold their table in embedkit's memory, or share the caller's (``_weight=``,
``from_pretrained``): a NumPy array or a PyTorch tensor, never copied. ``.weight`` is a NumPy
array over that same memory. embedkit has no autograd, so ``backward(...)`` returns the table's
gradient explicitly (a dense array, or ``(indices, values)`` with ``sparse=True``); an optimizer
from ``embedkit.optim`` applies it, or a fused step does both at once.

Options are fixed at construction (read-only attributes); only ``requires_grad`` changes later.
"""

from embedkit import _embedkit
from embedkit.nn._arrays import check_device, dtype_name, table_flags

__all__ = ["Embedding", "EmbeddingBag"]


def _module_dtype(_weight, dtype):
    """(dtype name for a new table, whether a given table holds bfloat16 bits)."""
    bfloat16 = table_flags(_weight, dtype)
    name = dtype_name(dtype) or "float32"
    return name, bfloat16


class _Table:
    """What Embedding and EmbeddingBag share: the table, its options, repr."""

    def _adopt(self, impl):
        self._impl = impl
        self._weight_array = None

    @property
    def weight(self):
        """The table: a NumPy array sharing its memory (bfloat16 as int16 bits).

        Writes through it change the table (and the caller's array when the table was given);
        the module itself updates it in place (``max_norm``, optimizers).
        """
        if self._weight_array is None:
            self._weight_array = self._impl.weight
        return self._weight_array

    @property
    def dtype(self):
        """The table's element type: 'float32', 'float16' or 'bfloat16'."""
        return self._impl.dtype

    @property
    def requires_grad(self):
        """False for a frozen table (``from_pretrained(freeze=True)``): backward raises."""
        return self._impl.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._impl.requires_grad = bool(value)

    @property
    def num_embeddings(self):
        return self._impl.num_embeddings

    @property
    def embedding_dim(self):
        return self._impl.embedding_dim

    @property
    def padding_idx(self):
        """The padding row (a negative value given is stored counted from the start)."""
        return self._impl.padding_idx

    @property
    def max_norm(self):
        return self._impl.max_norm

    @property
    def norm_type(self):
        return self._impl.norm_type

    @property
    def scale_grad_by_freq(self):
        return self._impl.scale_grad_by_freq

    @property
    def sparse(self):
        return self._impl.sparse

    def requires_grad_(self, requires_grad=True):
        """Sets ``requires_grad`` and returns the module, as ``torch.nn.Module.requires_grad_``."""
        self.requires_grad = requires_grad
        return self

    def reset_parameters(self):
        """Redraws the table in place from N(0, 1) and zeroes the padding row, as PyTorch's.

        A shared table (``_weight``, ``from_pretrained``) is overwritten in the caller's memory.
        ``embedkit.nn.manual_seed`` seeds the draw.
        """
        self._impl.reset_parameters()

    def __call__(self, *args, **kwargs):
        """``forward(...)``, as calling a ``torch.nn.Module`` does."""
        return self.forward(*args, **kwargs)

    def __repr__(self):
        return repr(self._impl)


class Embedding(_Table):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by id.

    As ``torch.nn.Embedding``, with the same arguments and defaults. A new table is drawn from
    N(0, 1) (embedkit's generator: ``embedkit.nn.manual_seed`` seeds it; the numbers are not
    torch's) and its padding row zeroed. ``_weight`` gives the table instead: a C-contiguous,
    writeable ``(num_embeddings, embedding_dim)`` array or tensor, shared (not copied, not
    re-initialised); the module keeps a reference to it.

    Args:
        num_embeddings: rows of the table.
        embedding_dim: size of each row.
        padding_idx: a row whose gradient is always zero (negative counts from the end).
        max_norm: rows looked up with a larger ``norm_type``-norm are rescaled in place.
        norm_type: the p of that norm (> 0, or inf).
        scale_grad_by_freq: divide each row's gradient by its count in the batch.
        sparse: ``backward`` returns ``(indices, values)`` instead of a dense gradient.
        _weight: a table to share.
        device: None or 'cpu'.
        dtype: 'float32' (default), 'float16' or 'bfloat16' (NumPy, PyTorch or string); with
            ``_weight`` it must be the table's dtype, or 'bfloat16' for int16 bits.
        unknown_ids: keyword-only, what out-of-range ids do: None/'error' (``IndexError``),
            'hash', or a row index.

    Example:
        >>> emb = embedkit.nn.Embedding(10, 3, padding_idx=0)
        >>> out = emb(np.array([[1, 2], [0, 9]]))        # (2, 2, 3)
        >>> grad = emb.backward([[1, 2], [0, 9]], np.ones_like(out))   # (10, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 device=None, dtype=None, *, unknown_ids=None):
        check_device(device)
        name, bfloat16 = _module_dtype(_weight, dtype)
        self._adopt(_embedkit.Embedding(
            num_embeddings, embedding_dim, padding_idx, max_norm, float(norm_type),
            bool(scale_grad_by_freq), bool(sparse), _weight, name, bfloat16=bfloat16,
            unknown_ids=unknown_ids))

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False, *, dtype=None,
                        unknown_ids=None):
        """A module over ``embeddings`` (2-D; shared, not copied), as PyTorch's.

        ``freeze=True`` (the default) makes the table frozen: ``backward`` raises
        ``ValueError`` until ``requires_grad`` is set. The padding row is not zeroed.
        """
        bfloat16 = table_flags(embeddings, dtype)
        self = cls.__new__(cls)
        self._adopt(_embedkit.Embedding.from_pretrained(
            embeddings, bool(freeze), padding_idx, max_norm, float(norm_type),
            bool(scale_grad_by_freq), bool(sparse), bfloat16=bfloat16, unknown_ids=unknown_ids))
        return self

    def forward(self, input):
        """``weight[input]``: a new array of shape ``input.shape + (embedding_dim,)``.

        With ``max_norm`` the referenced rows are renormalised in place first. An id outside
        ``[0, num_embeddings)`` raises ``IndexError`` naming its position; nothing changes.
        """
        return self._impl.forward(input)

    def backward(self, input, grad_output):
        """The table's gradient for ``grad_output``, the gradient of ``forward(input)``.

        Returns a dense ``(num_embeddings, embedding_dim)`` array, or with ``sparse=True`` the
        pair ``(indices, values)`` (int64 ``(1, nnz)`` in input order, ``(nnz, D)``): PyTorch's
        uncoalesced sparse gradient. Raises ``ValueError`` for a frozen table.
        """
        return self._impl.backward(input, grad_output)


class EmbeddingBag(_Table):
    """Bags of ids reduced (sum, mean or max) to one vector each, without building the rows.

    As ``torch.nn.EmbeddingBag``, with the same arguments and defaults (``mode='mean'``). Bags
    are a 2-D input ``(B, L)``, or a 1-D input with ``offsets`` (bag ``b`` is
    ``input[offsets[b]:offsets[b+1]]``; ``include_last_offset=True`` makes the last offset close
    the last bag, CSR style). Ids equal to ``padding_idx`` are left out of their bag.

    See :class:`Embedding` for ``_weight``, ``dtype``, ``device`` and ``unknown_ids``.

    Example:
        >>> bag = embedkit.nn.EmbeddingBag(10, 3, mode="sum")
        >>> out = bag(np.array([1, 2, 4, 5, 4]), offsets=np.array([0, 2]))   # (2, 3)
        >>> grad = bag.backward([1, 2, 4, 5, 4], np.ones_like(out), offsets=[0, 2])
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None, *,
                 unknown_ids=None):
        check_device(device)
        name, bfloat16 = _module_dtype(_weight, dtype)
        self._adopt(_embedkit.EmbeddingBag(
            num_embeddings, embedding_dim, max_norm, float(norm_type), bool(scale_grad_by_freq),
            mode, bool(sparse), _weight, bool(include_last_offset), padding_idx, name,
            bfloat16=bfloat16, unknown_ids=unknown_ids))

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None, *, dtype=None,
                        unknown_ids=None):
        """A module over ``embeddings`` (2-D; shared, not copied), as PyTorch's.

        ``freeze=True`` (the default) makes the table frozen: ``backward`` raises
        ``ValueError`` until ``requires_grad`` is set.
        """
        bfloat16 = table_flags(embeddings, dtype)
        self = cls.__new__(cls)
        self._adopt(_embedkit.EmbeddingBag.from_pretrained(
            embeddings, bool(freeze), max_norm, float(norm_type), bool(scale_grad_by_freq), mode,
            bool(sparse), bool(include_last_offset), padding_idx, bfloat16=bfloat16,
            unknown_ids=unknown_ids))
        return self

    @property
    def mode(self):
        """'sum', 'mean' or 'max'."""
        return self._impl.mode

    @property
    def include_last_offset(self):
        return self._impl.include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        """One reduced vector per bag: a new ``(B, embedding_dim)`` array.

        ``per_sample_weights`` (mode 'sum' only) has the ids' shape and the table's dtype.
        Everything is checked before anything is written: bad ids raise ``IndexError``, bad
        offsets ``ValueError``; the table is then unchanged even with ``max_norm``.
        """
        return self._impl.forward(input, offsets, per_sample_weights)

    def backward(self, input, grad_output, offsets=None, per_sample_weights=None):
        """The gradient for ``grad_output``, the gradient of ``forward(input, offsets, ...)``.

        Returns the table's gradient (dense, or ``(indices, values)`` with ``sparse=True``), or
        with ``per_sample_weights`` the tuple ``(table gradient, per-sample-weight gradient)``.
        Reads the table (mode 'max' finds each bag's arg-max again): call it before the table
        changes. Raises ``ValueError`` for a frozen table.
        """
        grad, psw_grad = self._impl.backward(input, offsets, grad_output, per_sample_weights)
        return grad if per_sample_weights is None else (grad, psw_grad)
