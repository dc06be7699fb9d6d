from embedkit.torch.collection import EmbeddingBagConfig as EmbeddingBagConfig
from embedkit.torch.collection import FusedEmbeddingBagCollection as FusedEmbeddingBagCollection
from embedkit.torch.functional import embedding as embedding
from embedkit.torch.functional import embedding_bag as embedding_bag
from embedkit.torch.fused import FusedEmbedding as FusedEmbedding
from embedkit.torch.fused import FusedEmbeddingBag as FusedEmbeddingBag
from embedkit.torch.modules import Embedding as Embedding
from embedkit.torch.modules import EmbeddingBag as EmbeddingBag

__all__ = ["Embedding", "EmbeddingBag", "FusedEmbedding", "FusedEmbeddingBag",
           "FusedEmbeddingBagCollection", "EmbeddingBagConfig", "embedding", "embedding_bag"]
