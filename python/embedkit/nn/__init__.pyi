from embedkit.nn import functional as functional
from embedkit.nn.modules import Embedding as Embedding, EmbeddingBag as EmbeddingBag

__all__ = ["Embedding", "EmbeddingBag", "functional", "manual_seed"]

def manual_seed(seed: int) -> None: ...
