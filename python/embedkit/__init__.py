"""embedkit: embedding tables with PyTorch's exact semantics, from C++.

The package wraps embedkit's C++ library (the compiled module ``embedkit._embedkit``):

- ``embedkit.nn``: ``Embedding``, ``EmbeddingBag`` and ``embedkit.nn.functional``, with
  PyTorch's names and defaults, over NumPy arrays (and PyTorch tensors, through DLPack),
  without copies.
- ``embedkit.optim``: the optimizers embedkit fuses into the backward.
- ``embedkit.torch``: ``torch.nn.Module`` versions whose backward runs embedkit's kernels, and
  fused versions whose optimizer runs inside the backward (needs torch).
- ``embedkit.KeyedVectors``, ``embedkit.Word2Vec``, ``embedkit.FastText``: gensim's names for
  word vectors (``FastText``: with character n-grams, a vector for any word).
- ``embedkit.train_supervised``, ``embedkit.train_unsupervised``, ``embedkit.load_model``:
  fastText's text classifier and subword word vectors, and its ``.bin`` files.
- ``embedkit.Recommender``: matrix factorisation for ratings and implicit feedback.

Submodules load on first use, so ``import embedkit`` stays quick and never imports torch.

``embedkit.set_num_threads(n)`` / ``get_num_threads()`` set and read how many threads the
kernels use, as ``torch.set_num_threads`` does for PyTorch's.

``Word2Vec``, ``FastText`` and ``Recommender.fit`` train across MPI processes with ``comm=``
(an mpi4py communicator) when embedkit was built with MPI (``embedkit.has_mpi``).

Errors are Python's: an out-of-range id raises ``IndexError`` naming its position, a bad
argument ``ValueError`` or ``TypeError``, a missing word ``KeyError``, a bad file ``OSError``.
An exception from embedkit means nothing was changed.
"""

import importlib

from embedkit._embedkit import CopyWarning, __version__, get_num_threads, has_mpi, set_num_threads

# name -> the submodule that defines it, imported on first access (PEP 562).
_LAZY = {
    "nn": "embedkit.nn",
    "optim": "embedkit.optim",
    "torch": "embedkit.torch",
    "KeyedVectors": "embedkit.keyed_vectors",
    "Word2Vec": "embedkit.word2vec",
    "FastText": "embedkit.subword_vectors",
    "FastTextKeyedVectors": "embedkit.subword_vectors",
    "load_facebook_model": "embedkit.subword_vectors",
    "load_facebook_vectors": "embedkit.subword_vectors",
    "train_supervised": "embedkit.fasttext",
    "train_unsupervised": "embedkit.fasttext",
    "load_model": "embedkit.fasttext",
    "Recommender": "embedkit.recommender",
}

__all__ = ["CopyWarning", "__version__", "get_num_threads", "has_mpi", "set_num_threads", *_LAZY]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'embedkit' has no attribute '{name}'")
    value = importlib.import_module(module)
    if name not in ("nn", "optim", "torch"):
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
