from typing import Any, Literal, Tuple, Union

import numpy as np
import numpy.typing as npt

# Arrays: NumPy arrays, objects with __dlpack__ (PyTorch tensors) or nested lists.
ArrayLike = Any
DTypeLike = Any
UnknownIds = Union[None, Literal["error", "hash"], int]
# A table's gradient: dense (N, D), or PyTorch's uncoalesced sparse layout (indices (1, nnz)
# int64, values (nnz, D)).
Grad = Union[npt.NDArray[Any], Tuple[npt.NDArray[np.int64], npt.NDArray[Any]]]
Mode = Literal["sum", "mean", "max"]

__all__ = ["embedding", "embedding_bag", "embedding_backward", "embedding_bag_backward"]

def embedding(
    input: ArrayLike,
    weight: ArrayLike,
    padding_idx: int | None = ...,
    max_norm: float | None = ...,
    norm_type: float = ...,
    scale_grad_by_freq: bool = ...,
    sparse: bool = ...,
    *,
    out: npt.NDArray[Any] | None = ...,
    dtype: DTypeLike | None = ...,
    unknown_ids: UnknownIds = ...,
) -> npt.NDArray[Any]: ...
def embedding_backward(
    input: ArrayLike,
    grad_output: ArrayLike,
    num_embeddings: int,
    padding_idx: int | None = ...,
    scale_grad_by_freq: bool = ...,
    sparse: bool = ...,
    *,
    dtype: DTypeLike | None = ...,
    unknown_ids: UnknownIds = ...,
) -> Grad: ...
def embedding_bag(
    input: ArrayLike,
    weight: ArrayLike,
    offsets: ArrayLike | None = ...,
    max_norm: float | None = ...,
    norm_type: float = ...,
    scale_grad_by_freq: bool = ...,
    mode: Mode = ...,
    sparse: bool = ...,
    per_sample_weights: ArrayLike | None = ...,
    include_last_offset: bool = ...,
    padding_idx: int | None = ...,
    *,
    out: npt.NDArray[Any] | None = ...,
    dtype: DTypeLike | None = ...,
    unknown_ids: UnknownIds = ...,
) -> npt.NDArray[Any]: ...
def embedding_bag_backward(
    input: ArrayLike,
    weight: ArrayLike,
    grad_output: ArrayLike,
    offsets: ArrayLike | None = ...,
    max_norm: float | None = ...,
    norm_type: float = ...,
    scale_grad_by_freq: bool = ...,
    mode: Mode = ...,
    sparse: bool = ...,
    per_sample_weights: ArrayLike | None = ...,
    include_last_offset: bool = ...,
    padding_idx: int | None = ...,
    *,
    dtype: DTypeLike | None = ...,
    unknown_ids: UnknownIds = ...,
) -> Union[Grad, Tuple[Grad, npt.NDArray[Any]]]: ...
