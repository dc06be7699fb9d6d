"""Functional lookups over arrays, as ``torch.nn.functional.embedding`` / ``embedding_bag``.

Arguments keep PyTorch's names, order and defaults. Ids and offsets are int32 or int64 arrays
(NumPy arrays, PyTorch tensors through DLPack, or lists); the table ``weight`` is a float32,
float16 or bfloat16 array that embedkit reads in place, without a copy (C-contiguous and
writeable, else ``ValueError``). Results are NumPy arrays that own embedkit's buffers.

PyTorch computes gradients through autograd; embedkit has none, so the backward passes are
functions here: ``embedding_backward`` and ``embedding_bag_backward`` return the table's gradient,
dense (an ``(N, D)`` array) or, with ``sparse=True``, the pair ``(indices, values)`` in the layout
of PyTorch's uncoalesced sparse gradient (``torch.sparse_coo_tensor(indices, values, (N, D))``
rebuilds it).

Extras, keyword-only: ``out=`` (write into a caller's array, no allocation), ``dtype='bfloat16'``
(an int16 table holds bfloat16 bits; NumPy has no bfloat16) and ``unknown_ids`` (``None`` or
``'error'``: out-of-range ids raise ``IndexError``, PyTorch's behaviour; ``'hash'``: they hash
into the table; an int: they read that row).

Row-wise quantized tables (int8, int4, int2; inference only): :func:`quantize` packs a float
table byte for byte as ``torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_prepack``,
:func:`dequantize` unpacks it, :func:`quantized_embedding_bag` and :func:`quantized_embedding`
read the packed rows directly. The same functions under ``torch.ops.quantized``'s names and
arguments: ``embedding_bag_byte_prepack``, ``embedding_bag_byte_unpack``,
``embedding_bag_byte_rowwise_offsets`` and their ``4bit`` and ``2bit`` forms.
"""

from embedkit import _embedkit
from embedkit.nn._arrays import table_flags
from embedkit.nn._quantized import OP_OF_BITS, as_table, bits_of

__all__ = ["embedding", "embedding_bag", "embedding_backward", "embedding_bag_backward",
           "quantize", "dequantize", "quantized_embedding_bag", "quantized_embedding"]
__all__ += [f"embedding_bag_{op}_{what}" for op in OP_OF_BITS.values()
            for what in ("prepack", "unpack", "rowwise_offsets")]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False, *, out=None, dtype=None,
              unknown_ids=None):
    """Looks up rows of ``weight``: ``weight[input]``, of shape ``input.shape + (D,)``.

    As ``torch.nn.functional.embedding``. With ``max_norm``, every row the ids reference whose
    ``norm_type``-norm exceeds ``max_norm`` is rescaled in place first (the caller's table
    changes). ``padding_idx``, ``scale_grad_by_freq`` and ``sparse`` only matter to
    :func:`embedding_backward`; they are accepted here so that calls port unchanged.

    Every id is checked before anything is written: an id outside ``[0, N)`` raises
    ``IndexError`` naming its position, and the table is left unchanged.

    Args:
        input: int32 or int64 ids, any shape.
        weight: the ``(N, D)`` table (float32, float16, or bfloat16 bits with dtype='bfloat16').
        out: an array of shape ``input.shape + (D,)`` and the table's dtype to write into;
            returned.
        dtype: None, or 'bfloat16' when ``weight`` is int16 bfloat16 bits.
        unknown_ids: what out-of-range ids do (see the module's help).

    Returns:
        A new NumPy array (embedkit's buffer), or ``out``.
    """
    bfloat16 = table_flags(weight, dtype)
    return _embedkit.embedding(input, weight, padding_idx, max_norm, float(norm_type),
                               bool(scale_grad_by_freq), bool(sparse), out=out,
                               bfloat16=bfloat16, unknown_ids=unknown_ids)


def embedding_backward(input, grad_output, num_embeddings, padding_idx=None,
                       scale_grad_by_freq=False, sparse=False, *, dtype=None, unknown_ids=None):
    """The table's gradient, given the gradient of :func:`embedding`'s output.

    ``grad[input[i]] += grad_output[i]`` in input order; the padding row's gradient is zero;
    ``scale_grad_by_freq`` divides each occurrence by its row's count in ``input``.

    Returns:
        A dense ``(num_embeddings, D)`` array, or with ``sparse=True`` the pair
        ``(indices, values)``: int64 indices of shape ``(1, nnz)`` in the ids' order (duplicates
        kept, padding positions removed) and values ``(nnz, D)``, PyTorch's uncoalesced layout.
    """
    bfloat16 = table_flags(grad_output, dtype)
    return _embedkit.embedding_backward(input, grad_output, int(num_embeddings), padding_idx,
                                        bool(scale_grad_by_freq), bool(sparse),
                                        bfloat16=bfloat16, unknown_ids=unknown_ids)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None, *, out=None, dtype=None,
                  unknown_ids=None):
    """Reduces bags of rows of ``weight`` to one vector each, as ``F.embedding_bag``.

    Bags are a 2-D ``input`` of shape ``(B, L)`` (``offsets`` None), or a 1-D ``input`` with
    1-D ``offsets`` (bag ``b`` is ``input[offsets[b]:offsets[b+1]]``; with
    ``include_last_offset`` the last offset closes the last bag and must equal ``len(input)``).
    ``mode`` is 'sum', 'mean' or 'max'; ids equal to ``padding_idx`` are left out of their bag;
    an empty bag gives zeros. ``per_sample_weights`` (mode 'sum' only, the ids' shape and the
    table's dtype) weight each row.

    Everything is checked before anything is written: bad ids raise ``IndexError``, bad offsets,
    shapes or option combinations ``ValueError``, wrong dtypes ``TypeError``; the table is then
    unchanged even with ``max_norm``.

    Returns:
        A new ``(B, D)`` NumPy array in the table's dtype, or ``out``.
    """
    bfloat16 = table_flags(weight, dtype)
    return _embedkit.embedding_bag(input, weight, offsets, mode, max_norm, float(norm_type),
                                   bool(scale_grad_by_freq), bool(sparse),
                                   bool(include_last_offset), padding_idx, per_sample_weights,
                                   out=out, bfloat16=bfloat16, unknown_ids=unknown_ids)


def embedding_bag_backward(input, weight, grad_output, offsets=None, max_norm=None, norm_type=2,
                           scale_grad_by_freq=False, mode="mean", sparse=False,
                           per_sample_weights=None, include_last_offset=False, padding_idx=None,
                           *, dtype=None, unknown_ids=None):
    """The gradients of :func:`embedding_bag`, given the gradient of its ``(B, D)`` output.

    Takes the forward's arguments plus ``grad_output``. It reads the table (mode 'max' finds
    each bag's arg-max again; per-sample-weight gradients need the rows), so call it before the
    table changes.

    Returns:
        The table's gradient (a dense ``(N, D)`` array, or with ``sparse=True`` the pair
        ``(indices, values)`` as :func:`embedding_backward`), or, when ``per_sample_weights``
        is given, the tuple ``(table gradient, per-sample-weight gradient)``, the latter of the
        ids' shape, as ``torch.autograd.grad(out, [weight, per_sample_weights], grad_output)``.
    """
    bfloat16 = table_flags(weight, dtype)
    grad, psw_grad = _embedkit.embedding_bag_backward(
        input, weight, offsets, grad_output, mode, max_norm, float(norm_type),
        bool(scale_grad_by_freq), bool(sparse), bool(include_last_offset), padding_idx,
        per_sample_weights, bfloat16=bfloat16, unknown_ids=unknown_ids)
    return grad if per_sample_weights is None else (grad, psw_grad)


# ---- row-wise quantized tables ----


def quantize(weight, bits=8, *, dtype=None):
    """Packs a float table row-wise: PyTorch's ``embedding_bag_{byte,4bit,2bit}_prepack``.

    Each row becomes its codes (``bits`` = 8, 4 or 2 per element, unsigned) followed by its
    scale and bias (float32 for 8 bits, float16 for 4 and 2), the same bytes PyTorch's prepack
    writes for the same table (docs/quantization.md has the layout and the arithmetic).

    Args:
        weight: a 2-D float32, float16 or bfloat16 table (NumPy, PyTorch tensor, list); read,
            not changed.
        bits: 8, 4 or 2 (or 'quint8', 'quint4x2', 'quint2x4', or those PyTorch dtypes).
        dtype: None, or 'bfloat16' when ``weight`` is int16 bfloat16 bits.

    Returns:
        A new writeable uint8 array ``(N, row_bytes)``: ``D + 8`` bytes a row for 8 bits,
        ``D / 2 + 4`` for 4, ``D / 4 + 4`` for 2.

    Raises:
        TypeError: ``weight`` is not a float32, float16 or bfloat16 array (float64 included:
            pass ``weight.astype(np.float32)``).
        ValueError: ``weight`` is not 2-D, D is 0, odd for 4 bits or not a multiple of 4 for 2
            (PyTorch's rules), a value is not finite, or (4 and 2 bits) a row's minimum or
            scale overflows float16.
    """
    return _embedkit.quantize(weight, bits_of(bits), bfloat16=table_flags(weight, dtype))


def dequantize(weight, bits=None, embedding_dim=None):
    """The float32 table ``(N, D)`` packed rows stand for: ``code * scale + bias``, as PyTorch's
    ``embedding_bag_{byte,4bit,2bit}_unpack`` (bitwise).

    ``weight`` is packed uint8 rows (read in place, never copied) of ``bits``-bit codes (None:
    8), or a :class:`~embedkit.nn.QuantizedEmbeddingBag` / its table. ``embedding_dim`` defaults
    to what PyTorch infers from the row size; given, the rows must be that size (``ValueError``).
    """
    table = as_table(weight, bits, embedding_dim, "embedkit.nn.functional.dequantize")
    return table.dequantize()


def quantized_embedding_bag(input, weight, offsets=None, mode="sum", per_sample_weights=None,
                            include_last_offset=False, padding_idx=None, *, bits=None,
                            embedding_dim=None, unknown_ids=None):
    """Bags of ids reduced straight from packed rows, as PyTorch's
    ``embedding_bag_{byte,4bit,2bit}_rowwise_offsets``; float32 ``(B, D)``.

    Bags are given as for :func:`embedding_bag` (2-D ``input``, or 1-D with ``offsets`` and
    ``include_last_offset``); an empty bag gives zeros. ``mode`` is 'sum' (PyTorch's ops, bit
    for bit) or 'mean' (the sum divided by the bag's count of non-padding ids); 'max' raises
    ``ValueError``. ``per_sample_weights`` (float32, the ids' shape, mode 'sum'). Ids equal to
    ``padding_idx`` are left out of their bag.

    ``weight``: packed uint8 rows (shared, not copied; ``bits`` None means 8) or a
    :class:`~embedkit.nn.QuantizedEmbeddingBag` / its table. Everything is checked before a row
    is read: an out-of-range id raises ``IndexError`` naming its position, bad offsets or
    shapes ``ValueError``, wrong dtypes ``TypeError``.
    """
    table = as_table(weight, bits, embedding_dim,
                     "embedkit.nn.functional.quantized_embedding_bag")
    return _embedkit.quantized_embedding_bag(input, table, offsets, mode,
                                             bool(include_last_offset), padding_idx,
                                             per_sample_weights, unknown_ids=unknown_ids)


def quantized_embedding(input, weight, *, bits=None, embedding_dim=None, unknown_ids=None):
    """The rows of the ids from packed rows, float32 of shape ``input.shape + (D,)``: each
    ``fma(scale, code, bias)``, as PyTorch's ``quantized::embedding_byte``.

    ``weight`` as for :func:`quantized_embedding_bag`. A looked-up row and the same row of
    :func:`dequantize` can differ in the last bit (PyTorch's ops differ the same way).
    """
    table = as_table(weight, bits, embedding_dim, "embedkit.nn.functional.quantized_embedding")
    return _embedkit.quantized_embedding(input, table, unknown_ids=unknown_ids)


def _torch_op_forms(bits):
    """torch.ops.quantized.embedding_bag_<op>_{prepack,unpack,rowwise_offsets} for `bits`."""
    op = OP_OF_BITS[bits]

    def prepack(weight):
        return quantize(weight, bits)

    def unpack(packed):
        return dequantize(packed, bits)

    def rowwise_offsets(weight, indices, offsets=None, scale_grad_by_freq=False, mode=0,
                        pruned_weights=False, per_sample_weights=None,
                        compressed_indices_mapping=None, include_last_offset=False):
        # PyTorch ignores `mode` (these ops always sum) and `scale_grad_by_freq` (no gradient);
        # a caller asking for another mode is told rather than given a sum.
        if mode != 0:
            raise ValueError(f"embedding_bag_{op}_rowwise_offsets only sums (mode 0), as "
                             f"PyTorch's op does whatever its mode; got mode {mode} (use "
                             f"quantized_embedding_bag(..., mode='mean'))")
        if pruned_weights or compressed_indices_mapping is not None:
            raise ValueError("pruned tables (pruned_weights, compressed_indices_mapping) are "
                             "not supported")
        return quantized_embedding_bag(indices, weight, offsets, "sum", per_sample_weights,
                                       include_last_offset, bits=bits)

    prepack.__doc__ = (f"``torch.ops.quantized.embedding_bag_{op}_prepack``: "
                       f":func:`quantize` with bits={bits}.")
    unpack.__doc__ = (f"``torch.ops.quantized.embedding_bag_{op}_unpack``: "
                      f":func:`dequantize` with bits={bits}.")
    rowwise_offsets.__doc__ = (
        f"``torch.ops.quantized.embedding_bag_{op}_rowwise_offsets``, its arguments in its "
        f"order: :func:`quantized_embedding_bag` (mode sum) on {bits}-bit packed rows. "
        f"``mode`` other than 0 and pruned tables raise ``ValueError``.")
    for f, what in ((prepack, "prepack"), (unpack, "unpack"), (rowwise_offsets, "rowwise_offsets")):
        f.__name__ = f.__qualname__ = f"embedding_bag_{op}_{what}"
        globals()[f.__name__] = f


for _bits in OP_OF_BITS:
    _torch_op_forms(_bits)
del _bits
