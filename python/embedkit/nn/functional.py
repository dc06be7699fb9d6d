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
"""

from embedkit import _embedkit
from embedkit.nn._arrays import table_flags

__all__ = ["embedding", "embedding_bag", "embedding_backward", "embedding_bag_backward"]


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
