"""Row-wise quantized embedding bags for serving: ``embedkit.nn.quantized``.

:class:`QuantizedEmbeddingBag` (also ``embedkit.nn.quantized.EmbeddingBag``, the name of
``torch.ao.nn.quantized.EmbeddingBag``) sums or averages bags of ids straight from a table of
int8, int4 or int2 codes with a scale and a bias per row, in the byte layout of PyTorch's
``torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_prepack`` (FBGEMM's fused row-wise
formats). It is inference only: nothing is trained, there is no backward.

Three ways to a table: :meth:`~QuantizedEmbeddingBag.from_float` quantizes a float table (the
bytes PyTorch's prepack writes); :meth:`~QuantizedEmbeddingBag.from_packed` shares rows PyTorch
or FBGEMM packed (a uint8 array or tensor, not copied: the module keeps a reference to it);
:meth:`~QuantizedEmbeddingBag.from_file` maps a file :meth:`~QuantizedEmbeddingBag.save` wrote
(a safetensors file), read-only, nothing copied. The table's bytes are read-only from the
module's side; a caller who shares them and writes them changes what the module reads.
"""

import numpy as np

from embedkit import _embedkit
from embedkit.nn._arrays import check_device, table_flags
from embedkit.nn._quantized import DTYPE_OF_BITS, bits_of

__all__ = ["QuantizedEmbeddingBag", "EmbeddingBag"]


class QuantizedEmbeddingBag:
    """Bags of ids reduced ('sum' or 'mean') from a row-wise quantized table; float32 output.

    The constructor follows ``torch.ao.nn.quantized.EmbeddingBag``'s: ``_weight`` is the packed
    uint8 rows ``(num_embeddings, row_bytes)`` (shared, not copied), ``dtype`` the packed type
    (``'quint8'``, ``'quint4x2'``, ``'quint2x4'``, the PyTorch dtypes of those names, or 8, 4,
    2; default 8 bits). Without ``_weight`` every row is zeros. ``max_norm`` and
    ``scale_grad_by_freq`` must keep their defaults (a quantized table is not renormalised or
    trained: ``ValueError``); ``sparse`` has no effect (no gradient). Keyword-only extras:
    ``padding_idx``, ``device`` (None or 'cpu') and ``unknown_ids`` (None/'error': an
    ``IndexError``; 'hash'; or a row index), as :class:`embedkit.nn.EmbeddingBag`'s. Most
    callers use the class methods instead.

    Sums are PyTorch's ``embedding_bag_*_rowwise_offsets`` bit for bit. Unlike PyTorch's
    quantized module, whose ops always sum whatever its mode, ``mode='mean'`` averages (the sum
    divided by the count of non-padding ids), and ``padding_idx`` leaves those ids out; 'max'
    raises ``ValueError``.

    Example:
        >>> bag = embedkit.nn.QuantizedEmbeddingBag.from_float(w, bits=4)   # w: (N, D) float32
        >>> out = bag(np.array([1, 2, 4, 5, 4]), offsets=np.array([0, 2]))  # (2, D) float32
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="sum", sparse=False, _weight=None,
                 include_last_offset=False, dtype=None, *, padding_idx=None, device=None,
                 unknown_ids=None):
        check_device(device)
        if max_norm is not None or scale_grad_by_freq:
            raise ValueError("a quantized table is read-only: max_norm and scale_grad_by_freq "
                             "are not supported")
        bits = 8 if dtype is None else bits_of(dtype)
        if _weight is None:
            table = _embedkit.QuantizedTable.quantize(
                np.zeros((num_embeddings, embedding_dim), np.float32), bits)
        else:
            table = _embedkit.QuantizedTable.from_packed(
                _weight, bits, embedding_dim,
                api="embedkit.nn.QuantizedEmbeddingBag(_weight=...)")
            if table.num_embeddings != num_embeddings:
                raise ValueError(f"_weight has {table.num_embeddings} rows, num_embeddings is "
                                 f"{num_embeddings}")
        self._adopt(table, mode, include_last_offset, padding_idx, unknown_ids)

    def _adopt(self, table, mode, include_last_offset, padding_idx, unknown_ids):
        self._impl = _embedkit.QuantizedEmbeddingBag(table, mode, bool(include_last_offset),
                                                     padding_idx, unknown_ids=unknown_ids)
        self._quantized_table = table

    @classmethod
    def _over(cls, table, mode, include_last_offset, padding_idx, unknown_ids):
        self = cls.__new__(cls)
        self._adopt(table, mode, include_last_offset, padding_idx, unknown_ids)
        return self

    @classmethod
    def from_float(cls, weight, bits=8, mode=None, include_last_offset=None, padding_idx=None,
                   *, dtype=None, unknown_ids=None):
        """Quantizes a float table, the bytes PyTorch's prepack writes for it.

        ``weight`` is a 2-D float32, float16 or bfloat16 array or tensor (read, not kept), or a
        float module with a ``weight`` (``embedkit.nn.EmbeddingBag``, ``torch.nn.EmbeddingBag``,
        as ``torch.ao``'s ``from_float(mod)``): then ``mode``, ``include_last_offset`` and
        ``padding_idx`` default to the module's. Otherwise ``mode`` defaults to 'sum'.
        ``bits``: 8, 4 or 2 (or 'quint8', 'quint4x2', 'quint2x4'). ``dtype='bfloat16'`` reads an
        int16 table as bfloat16 bits.

        Raises ``TypeError`` for another dtype (float64 included), ``ValueError`` for a table
        that is not 2-D, a D that ``bits`` cannot pack, non-finite values, or (4 and 2 bits) a
        row whose minimum or scale overflows float16.
        """
        if _is_float_module(weight):
            module = weight
            weight = module.weight
            mode = module.mode if mode is None else mode
            if include_last_offset is None:
                include_last_offset = module.include_last_offset
            if padding_idx is None:
                padding_idx = getattr(module, "padding_idx", None)
        mode = "sum" if mode is None else mode
        bfloat16 = table_flags(weight, dtype)
        table = _embedkit.QuantizedTable.quantize(weight, bits_of(bits), bfloat16=bfloat16)
        return cls._over(table, mode, bool(include_last_offset), padding_idx, unknown_ids)

    @classmethod
    def from_packed(cls, packed, bits=8, embedding_dim=None, mode="sum",
                    include_last_offset=False, padding_idx=None, *, unknown_ids=None):
        """A module over rows PyTorch or FBGEMM packed: shared, not copied.

        ``packed`` is a C-contiguous 2-D uint8 array or tensor ``(N, row_bytes)``, as
        ``torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_prepack`` returns it; the module
        keeps a reference to it and reads it in place (writes to it are seen by later calls).
        D is inferred from the row size as PyTorch does (``row_bytes - 8`` for 8 bits,
        ``(row_bytes - 4) * 2`` for 4, ``(row_bytes - 4) * 4`` for 2); ``embedding_dim``, when
        given, must match the row size.

        Raises ``TypeError`` when ``packed`` is not uint8, ``ValueError`` when it is not 2-D or
        not C-contiguous or its rows do not match the format (or ``embedding_dim``).
        """
        table = _embedkit.QuantizedTable.from_packed(
            packed, bits_of(bits), embedding_dim,
            api="embedkit.nn.QuantizedEmbeddingBag.from_packed")
        return cls._over(table, mode, include_last_offset, padding_idx, unknown_ids)

    @classmethod
    def from_file(cls, path, name="weight", mode="sum", include_last_offset=False,
                  padding_idx=None, *, unknown_ids=None):
        """A module over a table :meth:`save` wrote, memory-mapped read-only: nothing is read
        until a bag needs its rows, nothing is copied.

        The file is a safetensors file whose tensor ``name`` is the packed rows (``U8``,
        ``(N, row_bytes)``) and whose metadata says the format (``<name>.quantized_format``:
        int8, int4 or int2) and optionally ``<name>.embedding_dim``. ``OSError`` for a file
        that is missing or not such a table.
        """
        table = _embedkit.QuantizedTable.open(
            path, name, api="embedkit.nn.QuantizedEmbeddingBag.from_file")
        return cls._over(table, mode, include_last_offset, padding_idx, unknown_ids)

    def save(self, path, name="weight"):
        """Writes the packed rows as a safetensors file (atomically) that :meth:`from_file`
        maps; ``safetensors.torch.load_file`` reads the rows as a uint8 tensor."""
        self._quantized_table.save(path, name)

    def forward(self, indices, offsets=None, per_sample_weights=None,
                compressed_indices_mapping=None):
        """One float32 vector per bag: a new ``(B, embedding_dim)`` array.

        Bags are 2-D ``indices`` ``(B, L)``, or 1-D ``indices`` with ``offsets`` (bag ``b`` is
        ``indices[offsets[b]:offsets[b+1]]``; ``include_last_offset`` makes the last offset close
        the last bag); an empty bag gives zeros. ``per_sample_weights``: float32, the ids'
        shape, mode 'sum' only. Everything is checked before a row is read: an out-of-range id
        raises ``IndexError`` naming its position, bad offsets ``ValueError``.
        ``compressed_indices_mapping`` (torch.ao's, for pruned tables) must be None.
        """
        if compressed_indices_mapping is not None:
            raise ValueError("pruned tables (compressed_indices_mapping) are not supported")
        return self._impl.forward(indices, offsets, per_sample_weights)

    def __call__(self, *args, **kwargs):
        """``forward(...)``, as calling a ``torch.nn.Module`` does."""
        return self.forward(*args, **kwargs)

    def dequantize(self):
        """The float32 table ``(N, D)`` the codes stand for, ``code * scale + bias``, as
        PyTorch's ``embedding_bag_*_unpack`` (bitwise). A new array."""
        return self._quantized_table.dequantize()

    @property
    def packed(self):
        """The packed rows: a read-only uint8 array ``(N, row_bytes)`` over the table's bytes
        (the caller's array when the table was given packed; the file's pages when mapped)."""
        return self._quantized_table.packed

    @property
    def bits(self):
        """8, 4 or 2."""
        return self._quantized_table.bits

    @property
    def dtype(self):
        """PyTorch's name of the packed type: 'quint8', 'quint4x2' or 'quint2x4'."""
        return DTYPE_OF_BITS[self.bits]

    @property
    def num_embeddings(self):
        return self._quantized_table.num_embeddings

    @property
    def embedding_dim(self):
        return self._quantized_table.embedding_dim

    @property
    def row_bytes(self):
        """Bytes of one packed row."""
        return self._quantized_table.row_bytes

    @property
    def mode(self):
        """'sum' or 'mean'."""
        return self._impl.mode

    @property
    def include_last_offset(self):
        return self._impl.include_last_offset

    @property
    def padding_idx(self):
        """The padding row (a negative value given is stored counted from the start)."""
        return self._impl.padding_idx

    def __repr__(self):
        return repr(self._impl)


# torch.ao.nn.quantized's name.
EmbeddingBag = QuantizedEmbeddingBag


def _is_float_module(obj):
    """An EmbeddingBag-like module (it has a weight and a mode), not an array or tensor."""
    return (hasattr(obj, "weight") and hasattr(obj, "mode") and not hasattr(obj, "__dlpack__")
            and not hasattr(obj, "__array_interface__"))
