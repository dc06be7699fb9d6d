"""embedkit: embedding tables with PyTorch's exact semantics, from C++.

The package wraps embedkit's C++ library (the compiled module ``embedkit._embedkit``):

- ``embedkit.nn``: ``Embedding``, ``EmbeddingBag`` and ``embedkit.nn.functional``, with
  PyTorch's names and defaults, over NumPy arrays (and PyTorch tensors, through DLPack),
  without copies.
- ``embedkit.torch``: ``torch.nn.Module`` versions whose backward runs embedkit's kernels, and
  fused versions whose optimizer runs inside the backward (import it explicitly; it needs torch).
- ``embedkit.optim``: the optimizers embedkit fuses into the backward.
- ``embedkit.KeyedVectors``, ``embedkit.Word2Vec``: gensim's names for word vectors.
- ``embedkit.train_supervised``: fastText's text classifier.
- ``embedkit.Recommender``: matrix factorisation for ratings and implicit feedback.

Errors are Python's: an out-of-range id raises ``IndexError`` naming its position, a bad
argument ``ValueError`` or ``TypeError``, a missing word ``KeyError``, a bad file ``OSError``.
An exception from embedkit means nothing was changed.
"""

from embedkit._embedkit import CopyWarning, __version__

__all__ = ["CopyWarning", "__version__"]
