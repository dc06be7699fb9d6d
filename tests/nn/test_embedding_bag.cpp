#include <gtest/gtest.h>

#include <cmath>

#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"

namespace embedkit::nn {
namespace {

Tensor ids64(std::vector<std::int64_t> v, std::optional<Shape> shape = std::nullopt) {
  return Tensor::from_vector(v, shape);
}

// The catalogue's example: W = arange(1, 11).view(5, 2), ids [3,1,1,1,4,0], offsets [0,0,3,3,6]
// (bags: {}, {3,1,1}, {}, {1,4,0}, {}).
struct Example {
  Tensor table = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Shape{5, 2});
  Tensor ids = ids64({3, 1, 1, 1, 4, 0});
  Tensor offsets = ids64({0, 0, 3, 3, 6});
};

TEST(EmbeddingBag, CatalogueExampleSumMeanMax) {
  Example ex;
  auto run = [&](BagMode mode) {
    return functional::embedding_bag(ex.ids, ex.table, ex.offsets,
                                     EmbeddingBagFuncOptions().mode(mode))
        .to_float_vector();
  };
  EXPECT_EQ(run(BagMode::Sum), (std::vector<float>{0, 0, 13, 16, 0, 0, 13, 16, 0, 0}));
  // Mean is a true division, as PyTorch's (13 * (1/3) would differ in the last bit).
  EXPECT_EQ(run(BagMode::Mean),
            (std::vector<float>{0, 0, 13 / 3.0f, 16 / 3.0f, 0, 0, 13 / 3.0f, 16 / 3.0f, 0, 0}));
  EXPECT_EQ(run(BagMode::Max), (std::vector<float>{0, 0, 7, 8, 0, 0, 9, 10, 0, 0}));
}

TEST(EmbeddingBag, TwoDimensionalIdsEqualOffsetsAndEmbeddingReductions) {
  Generator gen(3);
  EmbeddingBag bag(EmbeddingBagOptions(7, 3).mode(BagMode::Sum), gen);
  Tensor ids2 = ids64({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor a = bag.forward(ids2);
  Tensor b = bag.forward(ids2.reshape({6}), ids64({0, 3}));
  EXPECT_EQ(a.to_float_vector(), b.to_float_vector());
  Embedding emb(EmbeddingOptions(7, 3).weight(bag.weight()));
  const std::vector<float> rows = emb.forward(ids2).to_float_vector();
  for (int bb = 0; bb < 2; ++bb) {
    for (int j = 0; j < 3; ++j) {
      float s = 0;
      for (int i = 0; i < 3; ++i) s += rows[static_cast<std::size_t>((bb * 3 + i) * 3 + j)];
      EXPECT_EQ(a.item_at(bb * 3 + j), s);
    }
  }
  // include_last_offset has no meaning for 2-D ids: still B bags (PyTorch 1.13 drops one).
  EmbeddingBag last(
      EmbeddingBagOptions(7, 3).weight(bag.weight()).mode(BagMode::Sum).include_last_offset(true));
  EXPECT_EQ(last.forward(ids2).to_float_vector(), a.to_float_vector());
}

TEST(EmbeddingBag, IncludeLastOffsetClosesTheLastBag) {
  Example ex;
  EmbeddingBag bag(
      EmbeddingBagOptions(5, 2).weight(ex.table).mode(BagMode::Sum).include_last_offset(true));
  Tensor out = bag.forward(ex.ids, ids64({0, 3, 6}));
  EXPECT_EQ(out.to_float_vector(), (std::vector<float>{13, 16, 13, 16}));
  EXPECT_EQ(bag.forward(Tensor::empty({0}, DType::Int64), ids64({0})).shape(), (Shape{0, 2}));
  // The last offset must be the number of ids (PyTorch 1.13: undefined, may corrupt the heap).
  EXPECT_THROW(bag.forward(ex.ids, ids64({0, 3, 5})), ValueError);
  EXPECT_THROW(bag.forward(ex.ids, ids64({0, 3})), ValueError);
  EXPECT_THROW(bag.forward(ex.ids, Tensor::empty({0}, DType::Int64)), ValueError);
}

TEST(EmbeddingBag, BadOffsetsAreErrorsAndChangeNothing) {
  Example ex;
  const std::vector<float> before = ex.table.to_float_vector();
  EmbeddingBag bag(EmbeddingBagOptions(5, 2).weight(ex.table).max_norm(1.0));
  EXPECT_THROW(bag.forward(ex.ids, ids64({1, 3})), ValueError);               // offsets[0] != 0
  EXPECT_THROW(bag.forward(ex.ids, ids64({0, 4, 2})), ValueError);            // decreasing
  EXPECT_THROW(bag.forward(ex.ids, ids64({0, 7})), ValueError);               // past the end
  EXPECT_THROW(bag.forward(ex.ids, ids64({0, 1}, Shape{1, 2})), ValueError);  // not 1-D
  EXPECT_THROW(bag.forward(ex.ids, Tensor::from_vector<float>({0})), TypeError);
  EXPECT_THROW(bag.forward(ex.ids), ValueError);  // 1-D ids need offsets
  EXPECT_THROW(bag.forward(ids64({1, 2}, Shape{1, 2}), ids64({0})), ValueError);
  EXPECT_THROW(bag.forward(ids64({1}, Shape{1, 1, 1}), ids64({0})), ValueError);
  EXPECT_THROW(bag.forward(ex.ids, Tensor::empty({0}, DType::Int64)), ValueError);  // ids in no bag
  EXPECT_THROW(bag.forward(ids64({0, 5}), ids64({0})), IndexError);
  EXPECT_EQ(ex.table.to_float_vector(), before);
  // Mixed id / offset types are fine.
  EXPECT_NO_THROW(bag.forward(ex.ids, Tensor::from_vector<std::int32_t>({0, 2})));
}

TEST(EmbeddingBag, PaddingIsLeftOutOfEveryMode) {
  // Row 2 (padding) is the largest and non-zero, yet never counted.
  Tensor table = Tensor::from_vector<float>({1, 1, 2, 4, 100, 100, 3, 0, 5, 5}, Shape{5, 2});
  Tensor ids = ids64({2, 2, 2, 2, 4, 3, 2, 1}, Shape{2, 4});
  auto run = [&](BagMode mode) {
    return functional::embedding_bag(ids, table, Tensor(),
                                     EmbeddingBagFuncOptions().mode(mode).padding_idx(2))
        .to_float_vector();
  };
  EXPECT_EQ(run(BagMode::Sum), (std::vector<float>{0, 0, 10, 9}));
  EXPECT_EQ(run(BagMode::Mean), (std::vector<float>{0, 0, 10 / 3.0f, 9 / 3.0f}));
  EXPECT_EQ(run(BagMode::Max), (std::vector<float>{0, 0, 5, 5}));
}

TEST(EmbeddingBag, MaxTiesGoToTheFirstAndNaNOnlyWhenFirst) {
  Tensor table = Tensor::from_vector<float>({1, 5, 3, 2, 3, 7, NAN, 0}, Shape{4, 2});
  EmbeddingBagFuncOptions max = EmbeddingBagFuncOptions().mode(BagMode::Max);
  Tensor out = functional::embedding_bag(ids64({0, 1, 2}, Shape{1, 3}), table, Tensor(), max);
  EXPECT_EQ(out.to_float_vector(), (std::vector<float>{3, 7}));
  // Tie on column 0 between rows 1 and 2: the gradient goes to row 1 (first).
  EmbeddingBagGrad g =
      functional::embedding_bag_backward(ids64({0, 1, 2}, Shape{1, 3}), table, Tensor(),
                                         Tensor::from_vector<float>({1, 1}, Shape{1, 2}), max);
  EXPECT_EQ(g.weight.dense().to_float_vector(), (std::vector<float>{0, 0, 1, 0, 0, 1, 0, 0}));
  Tensor nan_first = functional::embedding_bag(ids64({3, 0}, Shape{1, 2}), table, Tensor(), max);
  EXPECT_TRUE(std::isnan(nan_first.item_at(0)));
  Tensor nan_later = functional::embedding_bag(ids64({0, 3}, Shape{1, 2}), table, Tensor(), max);
  EXPECT_EQ(nan_later.item_at(0), 1);
}

TEST(EmbeddingBag, PerSampleWeightsAndTheirGradient) {
  Example ex;
  Tensor psw = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6});
  EmbeddingBagFuncOptions sum = EmbeddingBagFuncOptions().mode(BagMode::Sum);
  Tensor out = functional::embedding_bag(ex.ids, ex.table, ex.offsets, sum, psw);
  // bag 1: 1*W3 + 2*W1 + 3*W1 = (7,8) + 5*(3,4); bag 3: 4*W1 + 5*W4 + 6*W0
  EXPECT_EQ(out.to_float_vector(),
            (std::vector<float>{0, 0, 22, 28, 0, 0, 12 + 45 + 6, 16 + 50 + 12, 0, 0}));
  Tensor grad_out = Tensor::from_vector<float>({1, 1, 1, 2, 1, 1, 3, 4, 1, 1}, Shape{5, 2});
  EmbeddingBagGrad g =
      functional::embedding_bag_backward(ex.ids, ex.table, ex.offsets, grad_out, sum, psw);
  // dpsw[i] = <grad_out[bag(i)], W[ids[i]]>
  EXPECT_EQ(g.per_sample_weights.to_float_vector(),
            (std::vector<float>{7 + 16, 3 + 8, 3 + 8, 9 + 16, 27 + 40, 3 + 8}));
  EXPECT_EQ(g.weight.dense().to_float_vector(),
            (std::vector<float>{18, 24, 5 + 12, 10 + 16, 0, 0, 1, 2, 15, 20}));
  EXPECT_THROW(functional::embedding_bag(ex.ids, ex.table, ex.offsets,
                                         EmbeddingBagFuncOptions().mode(BagMode::Mean), psw),
               ValueError);
  EXPECT_THROW(functional::embedding_bag(ex.ids, ex.table, ex.offsets, sum,
                                         Tensor::from_vector<float>({1, 2})),
               ValueError);
  EXPECT_THROW(functional::embedding_bag(ex.ids, ex.table, ex.offsets, sum, psw.to(DType::Float16)),
               TypeError);
}

TEST(EmbeddingBag, MeanBackwardAndSparseBackward) {
  Example ex;
  Tensor grad_out = Tensor::from_vector<float>({0, 0, 3, 6, 0, 0, 9, 12, 0, 0}, Shape{5, 2});
  EmbeddingBagFuncOptions mean = EmbeddingBagFuncOptions().mode(BagMode::Mean);
  EmbeddingBagGrad dense =
      functional::embedding_bag_backward(ex.ids, ex.table, ex.offsets, grad_out, mean);
  const float third = static_cast<float>(1.0 / 3.0);
  EXPECT_EQ(dense.weight.dense().item_at(0), 9 * third);  // row 0 from bag 3
  EXPECT_EQ(dense.weight.dense().item_at(6), 3 * third);  // row 3 from bag 1
  EmbeddingBagGrad sparse = functional::embedding_bag_backward(
      ex.ids, ex.table, ex.offsets, grad_out, EmbeddingBagFuncOptions(mean).sparse(true));
  EXPECT_EQ(sparse.weight.sparse().indices().to_int64_vector(),
            (std::vector<std::int64_t>{3, 1, 1, 1, 4, 0}));
  EXPECT_EQ(sparse.weight.sparse().values().item_at(0), 3 * third);
  EXPECT_EQ(sparse.weight.sparse().values().item_at(6), 9 * third);
  // Same gradient either way.
  const std::vector<float> a = sparse.weight.to_dense().to_float_vector();
  const std::vector<float> b = dense.weight.dense().to_float_vector();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << i;
}

TEST(EmbeddingBag, ScaleGradByFreqUsesEachRowsOwnCount) {
  // PyTorch 1.13's CPU EmbeddingBag divides by the wrong count here ([0, 1, 0, 0.5]).
  EmbeddingBagGrad g = functional::embedding_bag_backward(
      ids64({1, 1, 3}), Tensor::zeros({4, 1}), ids64({0}),
      Tensor::from_vector<float>({1}, Shape{1, 1}),
      EmbeddingBagFuncOptions().mode(BagMode::Sum).scale_grad_by_freq(true));
  EXPECT_EQ(g.weight.dense().to_float_vector(), (std::vector<float>{0, 1, 0, 1}));
}

TEST(EmbeddingBag, RejectedOptionCombinations) {
  EXPECT_THROW(EmbeddingBag(EmbeddingBagOptions(4, 2).mode(BagMode::Max).sparse(true)), ValueError);
  EXPECT_THROW(EmbeddingBag(EmbeddingBagOptions(4, 2).mode(BagMode::Max).scale_grad_by_freq(true)),
               ValueError);
  EXPECT_THROW(EmbeddingBag(EmbeddingBagOptions(4, 2).sparse(true).scale_grad_by_freq(true)),
               ValueError);
  EXPECT_THROW(EmbeddingBag(EmbeddingBagOptions(4, 2).padding_idx(4)), ValueError);
  EXPECT_THROW(EmbeddingBag(EmbeddingBagOptions(4, 2).max_norm(0.0)), ValueError);
  EmbeddingBag ok(EmbeddingBagOptions(4, 2).mode(BagMode::Sum).padding_idx(-1));
  EXPECT_EQ(ok.repr(), "EmbeddingBag(4, 2, mode=sum, padding_idx=3)");
}

TEST(EmbeddingBag, EmptyInputGivesZeroBagsOrZeros) {
  EmbeddingBag bag(EmbeddingBagOptions(4, 3).mode(BagMode::Sum));
  EXPECT_EQ(bag.forward(Tensor::empty({0}, DType::Int64), Tensor::empty({0}, DType::Int64)).shape(),
            (Shape{0, 3}));
  Tensor z = bag.forward(Tensor::empty({0}, DType::Int32), ids64({0, 0}));
  EXPECT_EQ(z.to_float_vector(), (std::vector<float>(6, 0.0f)));
  EmbeddingBagGrad g =
      bag.backward(Tensor::empty({0}, DType::Int32), ids64({0, 0}), Tensor::zeros({2, 3}));
  EXPECT_EQ(g.weight.dense().to_float_vector(), (std::vector<float>(12, 0.0f)));
  // 2-D ids with zero-length rows: B empty bags.
  EXPECT_EQ(bag.forward(Tensor::empty({2, 0}, DType::Int64)).to_float_vector(),
            (std::vector<float>(6, 0.0f)));
}

}  // namespace
}  // namespace embedkit::nn
