"""Type stubs of embedkit.fasttext (fastText's Python API for embedkit's text classifier)."""

import os
from typing import Any, Dict, List, Optional, Tuple, Union, overload

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
def train_unsupervised(
    input: _Path = ...,
    model: str = "skipgram",
    lr: float = 0.05,
    dim: int = 100,
    ws: int = 5,
    epoch: int = 5,
    minCount: int = 5,
    minCountLabel: int = 0,
    minn: int = 3,
    maxn: int = 6,
    neg: int = 5,
    wordNgrams: int = 1,
    loss: str = "ns",
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
) -> FastTextModel: ...
def load_model(path: _Path) -> Union[TextClassifier, FastTextModel]: ...

class FastTextModel:
    def __init__(self, model: Any, label_prefix: str = "__label__") -> None: ...
    def get_word_vector(self, word: str) -> npt.NDArray[np.float32]: ...
    def __getitem__(self, word: str) -> npt.NDArray[np.float32]: ...
    def __contains__(self, word: object) -> bool: ...
    def get_sentence_vector(self, text: str) -> npt.NDArray[np.float32]: ...
    def get_input_vector(self, ind: int) -> npt.NDArray[np.float32]: ...
    def get_input_matrix(self) -> npt.NDArray[np.float32]: ...
    def get_output_matrix(self) -> npt.NDArray[np.float32]: ...
    def get_nearest_neighbors(
        self, word: str, k: int = 10, on_unicode_error: str = "strict"
    ) -> List[Tuple[float, str]]: ...
    def get_analogies(
        self, wordA: str, wordB: str, wordC: str, k: int = 10, on_unicode_error: str = "strict"
    ) -> List[Tuple[float, str]]: ...
    @overload
    def get_words(self) -> List[str]: ...
    @overload
    def get_words(self, include_freq: bool, on_unicode_error: str = "strict") -> Any: ...
    @overload
    def get_labels(self) -> List[str]: ...
    @overload
    def get_labels(self, include_freq: bool, on_unicode_error: str = "strict") -> Any: ...
    @property
    def words(self) -> List[str]: ...
    @property
    def labels(self) -> List[str]: ...
    def get_word_id(self, word: str) -> int: ...
    def get_subword_id(self, subword: str) -> int: ...
    def get_subwords(
        self, word: str, on_unicode_error: str = "strict"
    ) -> Tuple[List[str], npt.NDArray[np.int64]]: ...
    def get_dimension(self) -> int: ...
    def is_quantized(self) -> bool: ...
    @overload
    def predict(
        self, text: str, k: int = 1, threshold: float = 0.0, on_unicode_error: str = "strict"
    ) -> Tuple[Tuple[str, ...], npt.NDArray[np.float64]]: ...
    @overload
    def predict(
        self, text: List[str], k: int = 1, threshold: float = 0.0, on_unicode_error: str = "strict"
    ) -> Tuple[List[List[str]], List[npt.NDArray[np.float32]]]: ...
    def test(self, path: _Path, k: int = 1, threshold: float = 0.0) -> Tuple[int, float, float]: ...
    def test_label(
        self, path: _Path, k: int = 1, threshold: float = 0.0
    ) -> Dict[str, Dict[str, float]]: ...
    def quantize(
        self,
        input: Optional[_Path] = None,
        qout: bool = False,
        cutoff: int = 0,
        retrain: bool = False,
        epoch: Optional[int] = None,
        lr: Optional[float] = None,
        thread: Optional[int] = None,
        verbose: Optional[int] = None,
        dsub: int = 2,
        qnorm: bool = False,
    ) -> None: ...
    def save_model(self, path: _Path) -> None: ...

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
    def quantize(
        self,
        input: Optional[_Path] = None,
        qout: bool = False,
        cutoff: int = 0,
        retrain: bool = False,
        epoch: Optional[int] = None,
        lr: Optional[float] = None,
        thread: Optional[int] = None,
        verbose: Optional[int] = None,
        dsub: int = 2,
        qnorm: bool = False,
    ) -> None: ...
    @property
    def words(self) -> List[str]: ...
    @property
    def labels(self) -> List[str]: ...
    def save_model(self, path: _Path) -> None: ...
