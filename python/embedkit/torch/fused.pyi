from typing import Any, Callable, Dict, Iterable, Optional, Type, Union

import torch

from embedkit.optim import Optimizer
from embedkit.torch.modules import Embedding, EmbeddingBag

__all__ = ["FusedEmbedding", "FusedEmbeddingBag", "make_optimizer"]

# A name ("sgd", "adagrad", "rowwise_adagrad", "sparse_adam", "lazy_adam", FBGEMM's "exact_*"
# and "approx_sgd": SGD applied in input order), an embedkit.optim class, torch.optim.SGD /
# Adagrad / SparseAdam, or params -> optimizer.
OptimizerSpec = Union[str, Type[Any], Callable[[Iterable[Any]], Optimizer]]

def make_optimizer(spec: OptimizerSpec, optimizer_kwargs: Optional[Dict[str, Any]],
                   params: Iterable[Any]) -> Optimizer: ...

class FusedEmbeddingBag(EmbeddingBag):
    table: Any
    optimizer: Optimizer
    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: Optional[float] = ...,
                 norm_type: float = ..., scale_grad_by_freq: bool = ..., mode: str = ...,
                 _weight: Optional[torch.Tensor] = ..., include_last_offset: bool = ...,
                 padding_idx: Optional[int] = ..., device: Any = ...,
                 dtype: Optional[torch.dtype] = ..., *, optimizer: OptimizerSpec,
                 optimizer_kwargs: Optional[Dict[str, Any]] = ...) -> None: ...
    @classmethod
    def from_pretrained(cls, embeddings: torch.Tensor, freeze: bool = ...,
                        max_norm: Optional[float] = ...,
                        norm_type: float = ..., scale_grad_by_freq: bool = ..., mode: str = ...,
                        include_last_offset: bool = ..., padding_idx: Optional[int] = ..., *,
                        optimizer: OptimizerSpec,
                        optimizer_kwargs: Optional[Dict[str, Any]] = ...
                        ) -> "FusedEmbeddingBag": ...
    def get_learning_rate(self) -> float: ...
    def set_learning_rate(self, lr: float) -> None: ...
    def get_extra_state(self) -> Dict[str, Any]: ...
    def set_extra_state(self, state: Dict[str, Any]) -> None: ...

class FusedEmbedding(Embedding):
    table: Any
    optimizer: Optimizer
    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Optional[int] = ...,
                 max_norm: Optional[float] = ..., norm_type: float = ...,
                 scale_grad_by_freq: bool = ..., _weight: Optional[torch.Tensor] = ...,
                 device: Any = ..., dtype: Optional[torch.dtype] = ..., *,
                 optimizer: OptimizerSpec,
                 optimizer_kwargs: Optional[Dict[str, Any]] = ...) -> None: ...
    @classmethod
    def from_pretrained(cls, embeddings: torch.Tensor, freeze: bool = ...,
                        padding_idx: Optional[int] = ...,
                        max_norm: Optional[float] = ..., norm_type: float = ...,
                        scale_grad_by_freq: bool = ..., *, optimizer: OptimizerSpec,
                        optimizer_kwargs: Optional[Dict[str, Any]] = ...) -> "FusedEmbedding": ...
    def get_learning_rate(self) -> float: ...
    def set_learning_rate(self, lr: float) -> None: ...
    def get_extra_state(self) -> Dict[str, Any]: ...
    def set_extra_state(self, state: Dict[str, Any]) -> None: ...
