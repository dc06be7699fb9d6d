from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy.typing as npt

__all__ = ["Optimizer", "SGD", "Adagrad", "RowWiseAdagrad", "SparseAdam", "LazyAdam",
           "fused_backward_step"]

# A table (float32 NumPy array or CPU tensor), an embedkit.nn / embedkit.torch module, a
# (name, table-or-module) pair, or a dict {name: table-or-module}.
_Params = Union[Iterable[Any], Mapping[str, Any]]
# None, a dense array, (indices, values) of a row-sparse gradient, or a torch sparse tensor.
_Grad = Any

class Optimizer:
    @property
    def param_names(self) -> List[str]: ...
    @property
    def name(self) -> str: ...
    @property
    def defaults(self) -> Dict[str, Any]: ...
    def state_dict(self) -> Dict[str, npt.NDArray[Any]]: ...
    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None: ...
    def step(self, grads: Optional[Sequence[_Grad]] = ...) -> None: ...
    def zero_grad(self, set_to_none: bool = ...) -> None: ...

class SGD(Optimizer):
    def __init__(self, params: _Params, lr: float, momentum: float = ..., dampening: float = ...,
                 weight_decay: float = ..., nesterov: bool = ..., *,
                 maximize: bool = ...) -> None: ...

class Adagrad(Optimizer):
    def __init__(self, params: _Params, lr: float = ..., lr_decay: float = ...,
                 weight_decay: float = ..., initial_accumulator_value: float = ...,
                 eps: float = ..., *, maximize: bool = ...) -> None: ...

class RowWiseAdagrad(Optimizer):
    def __init__(self, params: _Params, lr: float = ..., eps: float = ...,
                 weight_decay: float = ..., weight_decay_mode: str = ...) -> None: ...

class SparseAdam(Optimizer):
    def __init__(self, params: _Params, lr: float = ..., betas: Tuple[float, float] = ...,
                 eps: float = ..., maximize: bool = ...) -> None: ...

class LazyAdam(Optimizer):
    def __init__(self, params: _Params, lr: float = ..., betas: Tuple[float, float] = ...,
                 eps: float = ..., maximize: bool = ...) -> None: ...

def fused_backward_step(module: Any, ids: Any, *args: Any, **kwargs: Any) -> None: ...
