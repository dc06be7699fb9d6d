import os
from typing import Any, Literal, Union

import numpy as np
import numpy.typing as npt

from embedkit.nn.functional import ArrayLike, Bits, DTypeLike, UnknownIds

__all__ = ["QuantizedEmbeddingBag", "EmbeddingBag"]

QuantizedMode = Literal["sum", "mean"]

class QuantizedEmbeddingBag:
    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = ...,
        norm_type: float = ...,
        scale_grad_by_freq: bool = ...,
        mode: QuantizedMode = ...,
        sparse: bool = ...,
        _weight: ArrayLike | None = ...,
        include_last_offset: bool = ...,
        dtype: Bits | None = ...,
        *,
        padding_idx: int | None = ...,
        device: Any = ...,
        unknown_ids: UnknownIds = ...,
    ) -> None: ...
    @classmethod
    def from_float(
        cls,
        weight: Any,
        bits: Bits = ...,
        mode: QuantizedMode | None = ...,
        include_last_offset: bool | None = ...,
        padding_idx: int | None = ...,
        *,
        dtype: DTypeLike | None = ...,
        unknown_ids: UnknownIds = ...,
    ) -> QuantizedEmbeddingBag: ...
    @classmethod
    def from_packed(
        cls,
        packed: ArrayLike,
        bits: Bits = ...,
        embedding_dim: int | None = ...,
        mode: QuantizedMode = ...,
        include_last_offset: bool = ...,
        padding_idx: int | None = ...,
        *,
        unknown_ids: UnknownIds = ...,
    ) -> QuantizedEmbeddingBag: ...
    @classmethod
    def from_file(
        cls,
        path: Union[str, os.PathLike[str]],
        name: str = ...,
        mode: QuantizedMode = ...,
        include_last_offset: bool = ...,
        padding_idx: int | None = ...,
        *,
        unknown_ids: UnknownIds = ...,
    ) -> QuantizedEmbeddingBag: ...
    def save(self, path: Union[str, os.PathLike[str]], name: str = ...) -> None: ...
    def forward(
        self,
        indices: ArrayLike,
        offsets: ArrayLike | None = ...,
        per_sample_weights: ArrayLike | None = ...,
        compressed_indices_mapping: ArrayLike | None = ...,
    ) -> npt.NDArray[np.float32]: ...
    def __call__(self, *args: Any, **kwargs: Any) -> npt.NDArray[np.float32]: ...
    def dequantize(self) -> npt.NDArray[np.float32]: ...
    @property
    def packed(self) -> npt.NDArray[np.uint8]: ...
    @property
    def bits(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def num_embeddings(self) -> int: ...
    @property
    def embedding_dim(self) -> int: ...
    @property
    def row_bytes(self) -> int: ...
    @property
    def mode(self) -> str: ...
    @property
    def include_last_offset(self) -> bool: ...
    @property
    def padding_idx(self) -> int | None: ...

EmbeddingBag = QuantizedEmbeddingBag
