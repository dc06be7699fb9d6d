"""Type stubs of embedkit.recommender (matrix factorisation with implicit's/Surprise's names)."""

import os
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

_Path = Union[str, os.PathLike]
Id = Union[str, int]
# (user, item, rating) tuples ((user, item) pairs for "bpr"), or columns "user", "item", "rating".
Ratings = Union[Iterable[Sequence[Any]], Mapping[str, Any]]
EpochCallback = Callable[[int, float, float], Any]

class Recommender:
    factors: int
    iterations: int
    learning_rate: float
    regularization: float
    bias_regularization: float
    objective: str
    optimizer: str
    batch_size: int
    init_std: float
    random_state: int
    def __init__(
        self,
        factors: int = 64,
        iterations: Optional[int] = None,
        learning_rate: float = 0.05,
        regularization: Optional[float] = None,
        bias_regularization: float = 0.01,
        objective: str = "rating",
        optimizer: str = "rowwise-adagrad",
        batch_size: int = 1024,
        init_std: float = 0.01,
        random_state: int = 42,
    ) -> None: ...
    def fit(
        self,
        ratings: Ratings,
        show_progress: bool = False,
        callback: Optional[EpochCallback] = None,
        *,
        comm: Any = None,
    ) -> Recommender: ...
    def fit_file(
        self,
        path: _Path,
        show_progress: bool = False,
        callback: Optional[EpochCallback] = None,
        *,
        comm: Any = None,
    ) -> Recommender: ...
    @classmethod
    def from_file(cls, path: _Path, **params: Any) -> Recommender: ...
    def predict(self, user: Id, item: Id) -> float: ...
    def recommend(self, user: Id, k: int = 10) -> List[Tuple[Id, float]]: ...
    def similar_items(self, item: Id, k: int = 10) -> List[Tuple[Id, float]]: ...
    def seen_items(self, user: Id) -> List[Id]: ...
    def evaluate(
        self, test: Ratings, k: int = 10, min_rating: Optional[float] = None
    ) -> Dict[str, float]: ...
    @property
    def users(self) -> List[Id]: ...
    @property
    def items(self) -> List[Id]: ...
    @property
    def user_factors(self) -> npt.NDArray[np.float32]: ...
    @property
    def item_factors(self) -> npt.NDArray[np.float32]: ...
    @property
    def user_biases(self) -> npt.NDArray[np.float32]: ...
    @property
    def item_biases(self) -> npt.NDArray[np.float32]: ...
    @property
    def global_bias(self) -> float: ...
    def save(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, path: _Path) -> Recommender: ...
