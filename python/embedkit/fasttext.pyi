"""Type stubs of embedkit.fasttext (fastText's Python API for embedkit's text classifier)."""

import os
from typing import Any, Dict, List, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

_Path = Union[str, os.PathLike]

def train_supervised(
    input: _Path = ...,
    lr: float = 0.1,
    dim: int = 100,
    ws: int = 5,
    epoch: int = 5,
    minCount: int = 1,
    minCountLabel: int = 0,
    minn: int = 0,
    maxn: int = 0,
    neg: int = 5,
    wordNgrams: int = 1,
    loss: str = "softmax",
    bucket: int = 2000000,
    thread: int = ...,
    lrUpdateRate: int = 100,
    t: float = 1e-4,
    label: str = "__label__",
    verbose: int = 2,
    pretrainedVectors: str = "",
    seed: int = 0,
    autotuneValidationFile: str = "",
    autotuneMetric: str = "f1",
    autotunePredictions: int = 1,
    autotuneDuration: int = 300,
    autotuneModelSize: str = "",
) -> TextClassifier: ...
def load_model(path: _Path) -> TextClassifier: ...

class TextClassifier:
    def __init__(self, model: Any) -> None: ...
    @overload
    def predict(
        self, text: str, k: int = 1, threshold: float = 0.0
    ) -> Tuple[Tuple[str, ...], npt.NDArray[np.float64]]: ...
    @overload
    def predict(
        self, text: List[str], k: int = 1, threshold: float = 0.0
    ) -> Tuple[List[List[str]], List[npt.NDArray[np.float32]]]: ...
    def test(self, path: _Path, k: int = 1, threshold: float = 0.0) -> Tuple[int, float, float]: ...
    def test_label(
        self, path: _Path, k: int = 1, threshold: float = 0.0
    ) -> Dict[str, Dict[str, float]]: ...
    def get_word_vector(self, word: str) -> npt.NDArray[np.float32]: ...
    def get_sentence_vector(self, text: str) -> npt.NDArray[np.float32]: ...
    def get_input_matrix(self) -> npt.NDArray[np.float32]: ...
    def get_output_matrix(self) -> npt.NDArray[np.float32]: ...
    @overload
    def get_words(self) -> List[str]: ...
    @overload
    def get_words(self, include_freq: bool) -> Any: ...
    @overload
    def get_labels(self) -> List[str]: ...
    @overload
    def get_labels(self, include_freq: bool) -> Any: ...
    def get_word_id(self, word: str) -> int: ...
    def get_dimension(self) -> int: ...
    def is_quantized(self) -> bool: ...
    @property
    def words(self) -> List[str]: ...
    @property
    def labels(self) -> List[str]: ...
    def save_model(self, path: _Path) -> None: ...
