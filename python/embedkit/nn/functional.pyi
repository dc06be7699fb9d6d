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
# A packed type: 8, 4 or 2 bits, or PyTorch's name of it (or the torch dtype).
Bits = Union[Literal[8, 4, 2, "quint8", "quint4x2", "quint2x4"], Any]

__all__ = [
    "embedding",
    "embedding_bag",
    "embedding_backward",
    "embedding_bag_backward",
    "quantize",
    "dequantize",
    "quantized_embedding_bag",
    "quantized_embedding",
    "embedding_bag_byte_prepack",
    "embedding_bag_byte_unpack",
    "embedding_bag_byte_rowwise_offsets",
    "embedding_bag_4bit_prepack",
    "embedding_bag_4bit_unpack",
    "embedding_bag_4bit_rowwise_offsets",
    "embedding_bag_2bit_prepack",
    "embedding_bag_2bit_unpack",
    "embedding_bag_2bit_rowwise_offsets",
]

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

# Row-wise quantized tables. `weight`: packed uint8 rows (shared, not copied), or a
# QuantizedEmbeddingBag.
def quantize(
    weight: ArrayLike, bits: Bits = ..., *, dtype: DTypeLike | None = ...
) -> npt.NDArray[np.uint8]: ...
def dequantize(
    weight: Any, bits: Bits | None = ..., embedding_dim: int | None = ...
) -> npt.NDArray[np.float32]: ...
def quantized_embedding_bag(
    input: ArrayLike,
    weight: Any,
    offsets: ArrayLike | None = ...,
    mode: Literal["sum", "mean"] = ...,
    per_sample_weights: ArrayLike | None = ...,
    include_last_offset: bool = ...,
    padding_idx: int | None = ...,
    *,
    bits: Bits | None = ...,
    embedding_dim: int | None = ...,
    unknown_ids: UnknownIds = ...,
) -> npt.NDArray[np.float32]: ...
def quantized_embedding(
    input: ArrayLike,
    weight: Any,
    *,
    bits: Bits | None = ...,
    embedding_dim: int | None = ...,
    unknown_ids: UnknownIds = ...,
) -> npt.NDArray[np.float32]: ...
def embedding_bag_byte_prepack(weight: ArrayLike) -> npt.NDArray[np.uint8]: ...
def embedding_bag_byte_unpack(packed: ArrayLike) -> npt.NDArray[np.float32]: ...
def embedding_bag_byte_rowwise_offsets(
    weight: ArrayLike,
    indices: ArrayLike,
    offsets: ArrayLike | None = ...,
    scale_grad_by_freq: bool = ...,
    mode: int = ...,
    pruned_weights: bool = ...,
    per_sample_weights: ArrayLike | None = ...,
    compressed_indices_mapping: ArrayLike | None = ...,
    include_last_offset: bool = ...,
) -> npt.NDArray[np.float32]: ...
def embedding_bag_4bit_prepack(weight: ArrayLike) -> npt.NDArray[np.uint8]: ...
def embedding_bag_4bit_unpack(packed: ArrayLike) -> npt.NDArray[np.float32]: ...
def embedding_bag_4bit_rowwise_offsets(
    weight: ArrayLike,
    indices: ArrayLike,
    offsets: ArrayLike | None = ...,
    scale_grad_by_freq: bool = ...,
    mode: int = ...,
    pruned_weights: bool = ...,
    per_sample_weights: ArrayLike | None = ...,
    compressed_indices_mapping: ArrayLike | None = ...,
    include_last_offset: bool = ...,
) -> npt.NDArray[np.float32]: ...
def embedding_bag_2bit_prepack(weight: ArrayLike) -> npt.NDArray[np.uint8]: ...
def embedding_bag_2bit_unpack(packed: ArrayLike) -> npt.NDArray[np.float32]: ...
def embedding_bag_2bit_rowwise_offsets(
    weight: ArrayLike,
    indices: ArrayLike,
    offsets: ArrayLike | None = ...,
    scale_grad_by_freq: bool = ...,
    mode: int = ...,
    pruned_weights: bool = ...,
    per_sample_weights: ArrayLike | None = ...,
    compressed_indices_mapping: ArrayLike | None = ...,
    include_last_offset: bool = ...,
) -> npt.NDArray[np.float32]: ...
