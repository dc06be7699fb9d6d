from typing import Optional

import torch

__all__ = ["embedding", "embedding_bag"]

def embedding(input: torch.Tensor, weight: torch.Tensor, padding_idx: Optional[int] = ...,
              max_norm: Optional[float] = ..., norm_type: float = ...,
              scale_grad_by_freq: bool = ..., sparse: bool = ...) -> torch.Tensor: ...
def embedding_bag(input: torch.Tensor, weight: torch.Tensor,
                  offsets: Optional[torch.Tensor] = ..., max_norm: Optional[float] = ...,
                  norm_type: float = ..., scale_grad_by_freq: bool = ..., mode: str = ...,
                  sparse: bool = ..., per_sample_weights: Optional[torch.Tensor] = ...,
                  include_last_offset: bool = ...,
                  padding_idx: Optional[int] = ...) -> torch.Tensor: ...
