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
    if not isinstance(ids, torch.Tensor):
        ids = torch.as_tensor(ids)
    if ids.device.type != "cpu":
        raise ValueError(f"{what} must be on the CPU (embedkit is a CPU library), got {ids.device}")
    return ids.detach().contiguous().numpy()


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


class _EmbeddingFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, ids, options):
        out = _embedkit.embedding(ids, as_array(weight), bfloat16=weight.dtype == torch.bfloat16,
                                  **options)
        ctx.ids, ctx.options = ids, options
        ctx.table_shape, ctx.table_dtype = weight.shape, weight.dtype
        return as_tensor(out, weight.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        options = ctx.options
        grad = _embedkit.embedding_backward(
            ctx.ids, as_array(grad_output.contiguous()), ctx.table_shape[0],
            padding_idx=options["padding_idx"], scale_grad_by_freq=options["scale_grad_by_freq"],
            sparse=options["sparse"], bfloat16=ctx.table_dtype == torch.bfloat16)
        return gradient_tensor(grad, ctx.table_shape, ctx.table_dtype), None, None


def _padding_row(padding_idx, num_embeddings):
    """torch's normalisation of padding_idx (negative counts from the end)."""
    if padding_idx is not None and padding_idx < 0:
        return padding_idx + num_embeddings
    return padding_idx


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """torch.nn.functional.embedding computed by embedkit: ``weight[input]``.

    Same arguments and results as PyTorch's. Ids are int32 or int64; an out-of-range id raises
    IndexError naming its position, and nothing is changed (with ``max_norm`` too). With
    ``max_norm``, the rows looked up are renormalised in place, as in PyTorch. The gradient
    reaches ``weight`` through autograd (sparse COO with ``sparse=True``).
    """
    check_table(weight)
    ids = index_array(input)
    options = dict(padding_idx=_padding_row(padding_idx, weight.shape[0]), max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
    if torch.is_grad_enabled() and weight.requires_grad:
        return _EmbeddingFunction.apply(weight, ids, options)
    out = _embedkit.embedding(ids, as_array(weight), bfloat16=weight.dtype == torch.bfloat16,
                              **options)
    return as_tensor(out, weight.dtype)


class _EmbeddingBagFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight, per_sample_weights, ids, offsets, options):
        bf16 = weight.dtype == torch.bfloat16
        psw = None if per_sample_weights is None else as_array(per_sample_weights.contiguous())
        out = _embedkit.embedding_bag(ids, as_array(weight), offsets, per_sample_weights=psw,
                                      bfloat16=bf16, **options)
        # The table is read again by the backward (max mode's arg-max, per-sample-weight
        # gradients): saving it lets autograd catch an in-place change in between.
        ctx.save_for_backward(weight)
        ctx.ids, ctx.offsets, ctx.psw, ctx.options = ids, offsets, psw, options
        return as_tensor(out, weight.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (weight,) = ctx.saved_tensors
        bf16 = weight.dtype == torch.bfloat16
        grad, psw_grad = _embedkit.embedding_bag_backward(
            ctx.ids, as_array(weight), ctx.offsets, as_array(grad_output.contiguous()),
            per_sample_weights=ctx.psw, bfloat16=bf16, **ctx.options)
        weight_grad = None
        if ctx.needs_input_grad[0]:
            weight_grad = gradient_tensor(grad, weight.shape, weight.dtype)
        psw_grad = as_tensor(psw_grad, weight.dtype) if ctx.needs_input_grad[1] else None
        return weight_grad, psw_grad, None, None, None


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
    ids = index_array(input)
    offs = index_array(offsets, "offsets")
    options = dict(mode=mode, max_norm=max_norm, norm_type=float(norm_type),
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                   include_last_offset=include_last_offset,
                   padding_idx=_padding_row(padding_idx, weight.shape[0]))
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise TypeError(f"per_sample_weights must have the table's dtype {weight.dtype}, got "
                        f"{per_sample_weights.dtype}")
    if torch.is_grad_enabled() and (weight.requires_grad or (
            per_sample_weights is not None and per_sample_weights.requires_grad)):
        return _EmbeddingBagFunction.apply(weight, per_sample_weights, ids, offs, options)
    psw = None if per_sample_weights is None else as_array(per_sample_weights.contiguous())
    out = _embedkit.embedding_bag(ids, as_array(weight), offs, per_sample_weights=psw,
                                  bfloat16=weight.dtype == torch.bfloat16, **options)
    return as_tensor(out, weight.dtype)
