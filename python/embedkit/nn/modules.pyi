from typing import Any, Tuple, TypeVar, Union

import numpy.typing as npt

from embedkit.nn.functional import ArrayLike, DTypeLike, Grad, Mode, UnknownIds

__all__ = ["Embedding", "EmbeddingBag"]

_T = TypeVar("_T", bound="_Table")

class _Table:
    @property
    def weight(self) -> npt.NDArray[Any]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def requires_grad(self) -> bool: ...
    @requires_grad.setter
    def requires_grad(self, value: bool) -> None: ...
    @property
    def num_embeddings(self) -> int: ...
    @property
    def embedding_dim(self) -> int: ...
    @property
    def padding_idx(self) -> int | None: ...
    @property
    def max_norm(self) -> float | None: ...
    @property
    def norm_type(self) -> float: ...
    @property
    def scale_grad_by_freq(self) -> bool: ...
    @property
    def sparse(self) -> bool: ...
    def requires_grad_(self: _T, requires_grad: bool = ...) -> _T: ...
    def reset_parameters(self) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> npt.NDArray[Any]: ...

class Embedding(_Table):
    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = ...,
        max_norm: float | None = ...,
        norm_type: float = ...,
        scale_grad_by_freq: bool = ...,
        sparse: bool = ...,
        _weight: ArrayLike | None = ...,
        device: Any = ...,
        dtype: DTypeLike | None = ...,
        *,
        unknown_ids: UnknownIds = ...,
    ) -> None: ...
    @classmethod
    def from_pretrained(
        cls,
        embeddings: ArrayLike,
        freeze: bool = ...,
        padding_idx: int | None = ...,
        max_norm: float | None = ...,
        norm_type: float = ...,
        scale_grad_by_freq: bool = ...,
        sparse: bool = ...,
        *,
        dtype: DTypeLike | None = ...,
        unknown_ids: UnknownIds = ...,
    ) -> Embedding: ...
    def forward(self, input: ArrayLike) -> npt.NDArray[Any]: ...
    def backward(self, input: ArrayLike, grad_output: ArrayLike) -> Grad: ...

class EmbeddingBag(_Table):
    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = ...,
        norm_type: float = ...,
        scale_grad_by_freq: bool = ...,
        mode: Mode = ...,
        sparse: bool = ...,
        _weight: ArrayLike | None = ...,
        include_last_offset: bool = ...,
        padding_idx: int | None = ...,
        device: Any = ...,
        dtype: DTypeLike | None = ...,
        *,
        unknown_ids: UnknownIds = ...,
    ) -> None: ...
    @classmethod
    def from_pretrained(
        cls,
        embeddings: ArrayLike,
        freeze: bool = ...,
        max_norm: float | None = ...,
        norm_type: float = ...,
        scale_grad_by_freq: bool = ...,
        mode: Mode = ...,
        sparse: bool = ...,
        include_last_offset: bool = ...,
        padding_idx: int | None = ...,
        *,
        dtype: DTypeLike | None = ...,
        unknown_ids: UnknownIds = ...,
    ) -> EmbeddingBag: ...
    @property
    def mode(self) -> str: ...
    @property
    def include_last_offset(self) -> bool: ...
    def forward(
        self,
        input: ArrayLike,
        offsets: ArrayLike | None = ...,
        per_sample_weights: ArrayLike | None = ...,
    ) -> npt.NDArray[Any]: ...
    def backward(
        self,
        input: ArrayLike,
        grad_output: ArrayLike,
        offsets: ArrayLike | None = ...,
        per_sample_weights: ArrayLike | None = ...,
    ) -> Union[Grad, Tuple[Grad, npt.NDArray[Any]]]: ...
