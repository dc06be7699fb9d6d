"""torch.nn.functional.embedding and embedding_bag, computed by embedkit, with autograd.

Same signatures and results as PyTorch's (within docs/conformance.md). The table is the
caller's tensor, read (and, with ``max_norm``, renormalised) in place by embedkit: nothing is
copied on the way in, and the output is a tensor over embedkit's own buffer. The backward is
embedkit's (dense, or a sparse COO gradient with ``sparse=True``, in PyTorch's uncoalesced
layout).
"""

import torch

from embedkit import _embedkit

__all__ = ["embedding", "embedding_bag"]


def as_array(tensor):
    """A NumPy view of a CPU tensor (bfloat16 as its int16 bits), no copy."""
    tensor = tensor.detach()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy()
    return tensor.numpy()


def as_tensor(array, dtype):
    """A tensor over a NumPy array embedkit returned (int16 bits read as bfloat16), no copy."""
    tensor = torch.from_numpy(array)
    return tensor.view(torch.bfloat16) if dtype == torch.bfloat16 else tensor


def index_array(ids, what="input"):
    """Ids or offsets as a contiguous NumPy array (None stays None), as PyTorch takes them."""
    if ids is None:
        return None
    if type(ids) is torch.Tensor and ids.is_contiguous() and not ids.requires_grad:
        try:
            return ids.numpy()  # the common case, in a microsecond
        except TypeError:  # another device: said below
            pass
    if type(ids) is not torch.Tensor:
        ids = torch.as_tensor(ids)
    if ids.device.type != "cpu":
        raise ValueError(f"{what} must be on the CPU (embedkit is a CPU library), got {ids.device}")
    if ids.requires_grad:
        ids = ids.detach()
    return ids.contiguous().numpy()


def check_table(weight):
    if weight.device.type != "cpu":
        raise ValueError(f"weight must be on the CPU (embedkit is a CPU library), got "
                         f"{weight.device}")
    if not weight.is_contiguous():
        raise ValueError("weight must be contiguous: embedkit reads the table in place")


def gradient_tensor(grad, shape, dtype):
    """A table gradient from embedkit's backward as PyTorch's: dense, or a sparse COO tensor."""
    if isinstance(grad, tuple):
        indices, values = grad
        return torch.sparse_coo_tensor(torch.from_numpy(indices), as_tensor(values, dtype), shape)
    return as_tensor(grad, dtype)


def _bf16(dtype):
    """The keyword that says a table's int16 bits are bfloat16 (none for other tables)."""
    return _BF16 if dtype == torch.bfloat16 else _NO_KWARGS


_BF16 = {"bfloat16": True}
_NO_KWARGS = {}


def padding_row(padding_idx, num_embeddings):
    """torch's normalisation of padding_idx (negative counts from the end)."""
    if padding_idx is not None and padding_idx < 0:
        return padding_idx + num_embeddings
    return padding_idx


# The options tuples below are passed positionally (a keyword call costs a microsecond more):
# embedding's (padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse) and
# embedding_bag's (mode, max_norm, norm_type, scale_grad_by_freq, sparse, include_last_offset,
# padding_idx), in _embedkit's order.


def embedding_forward(ids, table, options, dtype):
    """embedkit's lookup over NumPy arrays, as a tensor (no autograd)."""
    return as_tensor(_embedkit.embedding(ids, table, *options, **_bf16(dtype)), dtype)


class _EmbeddingFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, table, ids, options):
        ctx.ids, ctx.options = ids, options
        ctx.table_shape, ctx.table_dtype = weight.shape, weight.dtype
        return embedding_forward(ids, table, options, weight.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        padding_idx, _, _, scale_grad_by_freq, sparse = ctx.options
        grad = _embedkit.embedding_backward(
            ctx.ids, as_array(grad_output.contiguous()), ctx.table_shape[0], padding_idx,
            scale_grad_by_freq, sparse, **_bf16(ctx.table_dtype))
        return gradient_tensor(grad, ctx.table_shape, ctx.table_dtype), None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """torch.nn.functional.embedding computed by embedkit: ``weight[input]``.

    Same arguments and results as PyTorch's. Ids are int32 or int64; an out-of-range id raises
    IndexError naming its position, and nothing is changed (with ``max_norm`` too). With
    ``max_norm``, the rows looked up are renormalised in place, as in PyTorch. The gradient
    reaches ``weight`` through autograd (sparse COO with ``sparse=True``).
    """
    check_table(weight)
    return embedding_call(weight, as_array(weight), index_array(input), (
        padding_row(padding_idx, weight.shape[0]), max_norm, norm_type, scale_grad_by_freq,
        sparse))


def embedding_call(weight, table, ids, options):
    """The lookup of ``ids`` in ``weight`` (``table`` its NumPy view), with autograd."""
    if weight.requires_grad and torch.is_grad_enabled():
        return _EmbeddingFunction.apply(weight, table, ids, options)
    return embedding_forward(ids, table, options, weight.dtype)


def embedding_bag_forward(ids, table, offsets, options, psw, dtype):
    """embedkit's bags over NumPy arrays, as a tensor (no autograd)."""
    return as_tensor(_embedkit.embedding_bag(ids, table, offsets, *options, psw, **_bf16(dtype)),
                     dtype)


class _EmbeddingBagFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, per_sample_weights, table, ids, offsets, options, psw):
        # The table is read again by the backward (max mode's arg-max, per-sample-weight
        # gradients): saving it lets autograd catch an in-place change in between.
        ctx.save_for_backward(weight)
        ctx.table, ctx.ids, ctx.offsets, ctx.psw, ctx.options = table, ids, offsets, psw, options
        return embedding_bag_forward(ids, table, offsets, options, psw, weight.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (weight,) = ctx.saved_tensors
        grad, psw_grad = _embedkit.embedding_bag_backward(
            ctx.ids, ctx.table, ctx.offsets, as_array(grad_output.contiguous()), *ctx.options,
            ctx.psw, **_bf16(weight.dtype))
        weight_grad = None
        if ctx.needs_input_grad[0]:
            weight_grad = gradient_tensor(grad, weight.shape, weight.dtype)
        psw_grad = as_tensor(psw_grad, weight.dtype) if ctx.needs_input_grad[1] else None
        return weight_grad, psw_grad, None, None, None, None, None


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """torch.nn.functional.embedding_bag computed by embedkit: one reduced vector per bag.

    Same arguments and results as PyTorch's: 2-D ``input`` (B bags of L ids) or 1-D ``input``
    with ``offsets``; ``mode`` "sum", "mean" or "max"; ``per_sample_weights`` with "sum".
    Gradients reach ``weight`` (sparse COO with ``sparse=True``) and ``per_sample_weights``
    through autograd. Bad ids or offsets raise IndexError / ValueError before anything changes.
    """
    check_table(weight)
    options = (mode, max_norm, float(norm_type), scale_grad_by_freq, sparse, include_last_offset,
               padding_row(padding_idx, weight.shape[0]))
    return embedding_bag_call(weight, as_array(weight), index_array(input),
                              index_array(offsets, "offsets"), options, per_sample_weights)


def embedding_bag_call(weight, table, ids, offsets, options, per_sample_weights):
    """The bags of ``ids`` in ``weight`` (``table`` its NumPy view), with autograd."""
    psw = None
    if per_sample_weights is not None:
        if per_sample_weights.dtype != weight.dtype:
            raise TypeError(f"per_sample_weights must have the table's dtype {weight.dtype}, got "
                            f"{per_sample_weights.dtype}")
        psw = as_array(per_sample_weights.contiguous())
    if torch.is_grad_enabled() and (weight.requires_grad or (
            per_sample_weights is not None and per_sample_weights.requires_grad)):
        return _EmbeddingBagFunction.apply(weight, per_sample_weights, table, ids, offsets,
                                           options, psw)
    return embedding_bag_forward(ids, table, offsets, options, psw, weight.dtype)
