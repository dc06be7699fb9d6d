"""Type stubs for embedkit.word2vec (embedkit.Word2Vec)."""

import os
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from embedkit.keyed_vectors import KeyedVectors

__all__ = ["Word2Vec", "Word2VecProgress"]

class Word2VecProgress:
    """A progress report of word2vec training (read-only)."""

    @property
    def fraction(self) -> float: ...
    @property
    def words(self) -> int: ...
    @property
    def words_per_second(self) -> float: ...
    @property
    def loss(self) -> float: ...
    @property
    def alpha(self) -> float: ...
    @property
    def elapsed_seconds(self) -> float: ...
    @property
    def eta_seconds(self) -> float: ...

_Path = Union[str, os.PathLike[str]]

class Word2Vec:
    wv: Optional[KeyedVectors]
    vector_size: int
    alpha: float
    window: int
    min_count: int
    sample: float
    seed: int
    workers: int
    min_alpha: Optional[float]
    sg: int
    hs: int
    negative: int
    ns_exponent: float
    cbow_mean: int
    epochs: int
    compute_loss: bool
    callbacks: tuple[Any, ...]
    comment: Optional[str]
    max_final_vocab: Optional[int]
    progress: Optional[Word2VecProgress]
    counts: npt.NDArray[np.int64]
    corpus_total_words: int
    words_trained: int
    total_train_time: float
    words_per_second: float
    final_loss: float
    def __init__(
        self,
        sentences: Optional[Iterable[Sequence[str]]] = None,
        corpus_file: Optional[_Path] = None,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: None = None,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int = 3,
        min_alpha: Optional[float] = 0.0001,
        sg: int = 0,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        hashfxn: Callable[[Any], int] = ...,
        epochs: int = 5,
        null_word: int = 0,
        trim_rule: None = None,
        sorted_vocab: int = 1,
        batch_words: int = 10000,
        compute_loss: bool = False,
        callbacks: Iterable[Any] = (),
        comment: Optional[str] = None,
        max_final_vocab: Optional[int] = None,
        shrink_windows: bool = True,
        *,
        progress: Union[None, bool, Callable[[Word2VecProgress], Any]] = None,
        comm: Any = None,
        distribute: str = "columns",
        column_batch_words: Optional[int] = None,
        syncs_per_epoch: Optional[int] = None,
    ) -> None: ...
    def save(self, fname: _Path) -> None: ...
    @classmethod
    def load(cls, fname: _Path) -> "Word2Vec": ...
