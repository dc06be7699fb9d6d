"""Type stubs for embedkit.subword_vectors (embedkit.FastText, gensim's names)."""

import os
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from embedkit.keyed_vectors import KeyedVectors
from embedkit.word2vec import Word2Vec, Word2VecProgress

__all__ = ["FastText", "FastTextKeyedVectors", "load_facebook_model", "load_facebook_vectors"]

_Path = Union[str, os.PathLike[str]]
_Key = Union[str, int]

class FastTextKeyedVectors(KeyedVectors):
    min_n: int
    max_n: int
    bucket: int
    @property
    def vectors_ngrams(self) -> npt.NDArray[np.float32]: ...
    @property
    def vectors_vocab(self) -> npt.NDArray[np.float32]: ...
    def __contains__(self, word: object) -> bool: ...
    def get_vector(self, word: _Key, norm: bool = False) -> npt.NDArray[np.float32]: ...
    def __getitem__(self, key_or_keys: Any) -> npt.NDArray[np.float32]: ...
    def most_similar(
        self,
        positive: Any = None,
        negative: Any = None,
        topn: Optional[int] = 10,
        restrict_vocab: Optional[int] = None,
    ) -> Any: ...
    def most_similar_cosmul(
        self,
        positive: Any = None,
        negative: Any = None,
        topn: Optional[int] = 10,
        restrict_vocab: Optional[int] = None,
    ) -> Any: ...
    def similarity(self, w1: _Key, w2: _Key) -> float: ...
    def rank_by_centrality(
        self, words: Sequence[str], use_norm: bool = True
    ) -> List[Tuple[float, str]]: ...

class FastText(Word2Vec):
    wv: Optional[FastTextKeyedVectors]  # type: ignore[assignment]
    min_n: int
    max_n: int
    bucket: int
    word_ngrams: int
    def __init__(
        self,
        sentences: Optional[Iterable[Sequence[str]]] = None,
        corpus_file: Optional[_Path] = None,
        sg: int = 0,
        hs: int = 0,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: None = None,
        word_ngrams: int = 1,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int = 3,
        min_alpha: Optional[float] = 0.0001,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        hashfxn: Callable[[Any], int] = ...,
        epochs: int = 5,
        null_word: int = 0,
        min_n: int = 3,
        max_n: int = 6,
        sorted_vocab: int = 1,
        bucket: int = 2000000,
        trim_rule: None = None,
        batch_words: int = 10000,
        callbacks: Iterable[Any] = (),
        max_final_vocab: Optional[int] = None,
        shrink_windows: bool = True,
        *,
        progress: Union[None, bool, Callable[[Word2VecProgress], Any]] = None,
        comm: Any = None,
        distribute: str = "columns",
        column_batch_words: Optional[int] = None,
        syncs_per_epoch: Optional[int] = None,
    ) -> None: ...
    def save_facebook_model(self, path: _Path) -> None: ...
    @classmethod
    def load(cls, fname: _Path) -> "FastText": ...

def load_facebook_vectors(path: _Path, encoding: str = "utf-8") -> FastTextKeyedVectors: ...
def load_facebook_model(path: _Path, encoding: str = "utf-8") -> FastText: ...
