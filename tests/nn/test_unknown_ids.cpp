#include <gtest/gtest.h>

#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"

namespace embedkit::nn {
namespace {

Tensor ids64(std::vector<std::int64_t> v) {
  return Tensor::from_vector(v);
}

TEST(UnknownIds, DefaultIsAnErrorNeverAFallbackToPadding) {
  // A widely read claim says out-of-range ids fall back to padding_idx. They do not.
  Embedding emb(EmbeddingOptions(10, 3).padding_idx(0));
  EXPECT_THROW(emb.forward(ids64({10})), IndexError);
  EXPECT_THROW(emb.forward(ids64({-1})), IndexError);
}

TEST(UnknownIds, MapToRowReadsAndTrainsThatRow) {
  Generator gen(1);
  Embedding emb(EmbeddingOptions(5, 2).unknown_ids(UnknownIds::map_to_row(4)), gen);
  Tensor out = emb.forward(ids64({1, 99, -7}));
  for (int j = 0; j < 2; ++j) {
    EXPECT_EQ(out.item_at(2 + j), emb.weight().item_at(8 + j));
    EXPECT_EQ(out.item_at(4 + j), emb.weight().item_at(8 + j));
  }
  WeightGrad g =
      emb.backward(ids64({1, 99, -7}), Tensor::from_vector<float>({1, 1, 2, 2, 3, 3}, Shape{3, 2}));
  EXPECT_EQ(g.dense().to_float_vector(), (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 0, 5, 5}));
  EXPECT_THROW(Embedding(EmbeddingOptions(5, 2).unknown_ids(UnknownIds::map_to_row(5))),
               ValueError);
}

TEST(UnknownIds, HashIsDeterministicAndInRange) {
  Generator gen(2);
  Embedding emb(EmbeddingOptions(7, 1).unknown_ids(UnknownIds::hash()), gen);
  const UnknownIds h = UnknownIds::hash();
  for (std::int64_t id : {7LL, 8LL, 1000000LL, -1LL, -123456789LL}) {
    const std::int64_t r = h.resolve(id, 7);
    EXPECT_GE(r, 0);
    EXPECT_LT(r, 7);
    EXPECT_EQ(r, h.resolve(id, 7));
    EXPECT_EQ(emb.forward(ids64({id})).item(), emb.weight().item_at(r));
  }
  // In-range ids are never rehashed.
  EXPECT_EQ(emb.forward(ids64({3})).item(), emb.weight().item_at(3));
  EXPECT_THROW(Embedding(EmbeddingOptions(0, 1).unknown_ids(UnknownIds::hash())), ValueError);
}

TEST(UnknownIds, BagsUseThePolicyToo) {
  Tensor table = Tensor::from_vector<float>({1, 2, 3}, Shape{3, 1});
  EmbeddingBag bag(EmbeddingBagOptions(3, 1)
                       .weight(table)
                       .mode(BagMode::Sum)
                       .unknown_ids(UnknownIds::map_to_row(0)));
  EXPECT_EQ(bag.forward(ids64({2, 50, 1}), ids64({0})).item(), 3 + 1 + 2);
}

}  // namespace
}  // namespace embedkit::nn
