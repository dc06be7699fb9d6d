from typing import Any, Optional

import torch

__all__ = ["Embedding", "EmbeddingBag"]

class Embedding(torch.nn.Embedding):
    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Optional[int] = ...,
                 max_norm: Optional[float] = ..., norm_type: float = ...,
                 scale_grad_by_freq: bool = ..., sparse: bool = ...,
                 _weight: Optional[torch.Tensor] = ..., device: Any = ...,
                 dtype: Optional[torch.dtype] = ...) -> None: ...
    def forward(self, input: torch.Tensor) -> torch.Tensor: ...

class EmbeddingBag(torch.nn.EmbeddingBag):
    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: Optional[float] = ...,
                 norm_type: float = ..., scale_grad_by_freq: bool = ..., mode: str = ...,
                 sparse: bool = ..., _weight: Optional[torch.Tensor] = ...,
                 include_last_offset: bool = ..., padding_idx: Optional[int] = ...,
                 device: Any = ..., dtype: Optional[torch.dtype] = ...) -> None: ...
    def forward(self, input: torch.Tensor, offsets: Optional[torch.Tensor] = ...,
                per_sample_weights: Optional[torch.Tensor] = ...) -> torch.Tensor: ...
