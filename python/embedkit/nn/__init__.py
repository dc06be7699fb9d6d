"""Embedding tables over arrays, with PyTorch's names: ``embedkit.nn``.

- :class:`Embedding`, :class:`EmbeddingBag`: ``torch.nn.Embedding`` / ``EmbeddingBag``'s
  constructors, ``from_pretrained``, forward (calling the module), and ``backward`` returning
  the table's gradient (embedkit has no autograd).
- :mod:`embedkit.nn.functional`: ``embedding``, ``embedding_bag`` and their backward functions.
- :func:`manual_seed`: seeds the generator new tables are drawn from.
- :class:`QuantizedEmbeddingBag` (:mod:`embedkit.nn.quantized`): bags on row-wise int8, int4 or
  int2 tables in PyTorch's packed layout, for serving; the functional forms are
  ``functional.quantize``, ``dequantize``, ``quantized_embedding_bag``, ``quantized_embedding``.

Arrays cross without copies: a table given as a NumPy array or a PyTorch tensor is shared
(it must be C-contiguous and writeable, else ``ValueError``), outputs are NumPy arrays over
embedkit's buffers, and read-only inputs (ids, offsets, gradients) are read in place when
C-contiguous, else copied with an ``embedkit.CopyWarning``. NumPy has no bfloat16: a bfloat16
table crosses as int16 bits (``dtype='bfloat16'``; a PyTorch bfloat16 tensor is recognised).
"""

from embedkit._embedkit import manual_seed
from embedkit.nn import functional, quantized
from embedkit.nn.modules import Embedding, EmbeddingBag
from embedkit.nn.quantized import QuantizedEmbeddingBag

__all__ = ["Embedding", "EmbeddingBag", "QuantizedEmbeddingBag", "functional", "manual_seed",
           "quantized"]
