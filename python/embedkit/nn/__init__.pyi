from embedkit.nn import functional as functional, quantized as quantized
from embedkit.nn.modules import Embedding as Embedding, EmbeddingBag as EmbeddingBag
from embedkit.nn.quantized import QuantizedEmbeddingBag as QuantizedEmbeddingBag

__all__ = [
    "Embedding",
    "EmbeddingBag",
    "QuantizedEmbeddingBag",
    "functional",
    "manual_seed",
    "quantized",
]

def manual_seed(seed: int) -> None: ...
