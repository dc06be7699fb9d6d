from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

from embedkit.torch.fused import FusedEmbeddingBag, OptimizerSpec

__all__ = ["EmbeddingBagConfig", "FusedEmbeddingBagCollection"]

class EmbeddingBagConfig:
    num_embeddings: int
    embedding_dim: int
    name: str
    mode: str
    padding_idx: Optional[int]
    include_last_offset: bool
    max_norm: Optional[float]
    norm_type: float
    init_fn: Optional[Callable[[torch.Tensor], object]]
    def __init__(self, num_embeddings: int, embedding_dim: int, name: str = ..., mode: str = ...,
                 padding_idx: Optional[int] = ..., include_last_offset: bool = ...,
                 max_norm: Optional[float] = ..., norm_type: float = ...,
                 init_fn: Optional[Callable[[torch.Tensor], object]] = ...) -> None: ...

# A 2-D ids tensor, (ids, offsets) or (ids, offsets, per_sample_weights).
_Feature = Union[torch.Tensor, Tuple[Any, ...]]

class FusedEmbeddingBagCollection(torch.nn.Module):
    configs: List[EmbeddingBagConfig]
    embedding_bags: torch.nn.ModuleDict
    def __init__(self, tables: Sequence[Union[EmbeddingBagConfig, Dict[str, Any], Tuple[int, int]]],
                 *, optimizer: OptimizerSpec, optimizer_kwargs: Optional[Dict[str, Any]] = ...,
                 device: Any = ...) -> None: ...
    @property
    def table_names(self) -> List[str]: ...
    @property
    def embedding_dims(self) -> List[int]: ...
    def forward(self, features: Union[Sequence[_Feature], Mapping[str, _Feature]]
                ) -> torch.Tensor: ...
    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = ...) -> Any: ...
    def set_learning_rate(self, lr: float) -> None: ...
    def split(self, output: torch.Tensor) -> List[torch.Tensor]: ...
