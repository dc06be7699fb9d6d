#include <gtest/gtest.h>

#include <cmath>

#include "embedkit/nn/embedding.hpp"

namespace embedkit::nn {
namespace {

Tensor ids64(std::vector<std::int64_t> v, std::optional<Shape> shape = std::nullopt) {
  return Tensor::from_vector(v, shape);
}

// W = [[0, 1], [2, 3], ...]: row r holds (2r, 2r + 1).
Tensor iota_table(std::int64_t rows, std::int64_t dim) {
  std::vector<float> v(static_cast<std::size_t>(rows * dim));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return Tensor::from_vector(v, Shape{rows, dim});
}

TEST(Embedding, ForwardShapeIsIdsShapePlusDim) {
  Embedding emb(EmbeddingOptions(10, 3));
  EXPECT_EQ(emb.forward(ids64({1, 2, 3, 4, 5, 6}, Shape{2, 3})).shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(emb.forward(Tensor::scalar<std::int64_t>(4)).shape(), (Shape{3}));
  EXPECT_EQ(emb.forward(Tensor::empty({0}, DType::Int64)).shape(), (Shape{0, 3}));
  EXPECT_EQ(emb.forward(Tensor::empty({2, 0, 4}, DType::Int32)).shape(), (Shape{2, 0, 4, 3}));
}

TEST(Embedding, ForwardGathersRowsForEveryDtype) {
  for (DType dt : {DType::Float32, DType::Float16, DType::BFloat16}) {
    Tensor table = iota_table(5, 2).to(dt);
    Embedding emb(EmbeddingOptions(5, 2).weight(table));
    Tensor out = emb.forward(Tensor::from_vector<std::int32_t>({4, 0, 4}));
    EXPECT_EQ(out.dtype(), dt);
    EXPECT_EQ(out.to_float_vector(), (std::vector<float>{8, 9, 0, 1, 8, 9}));
  }
}

TEST(Embedding, GivenWeightIsSharedAndNotReinitialised) {
  Tensor table = iota_table(4, 2);
  Embedding emb(EmbeddingOptions(4, 2).weight(table).padding_idx(1));
  EXPECT_TRUE(emb.weight().shares_storage_with(table));
  EXPECT_EQ(emb.weight().item_at(2), 2);  // padding row is not zeroed for a given table
  table.data<float>()[0] = 42;
  EXPECT_EQ(emb.forward(ids64({0})).item_at(0), 42);
  EXPECT_THROW(Embedding(EmbeddingOptions(4, 3).weight(table)), ValueError);
}

TEST(Embedding, PaddingIdxNormalisedZeroedAndRangeChecked) {
  Embedding emb(EmbeddingOptions(10, 4).padding_idx(-2));
  EXPECT_EQ(emb.options().padding_idx(), 8);
  for (int j = 0; j < 4; ++j) EXPECT_EQ(emb.weight().item_at(8 * 4 + j), 0.0);
  EXPECT_EQ(emb.repr(), "Embedding(10, 4, padding_idx=8)");
  EXPECT_THROW(Embedding(EmbeddingOptions(10, 4).padding_idx(10)), ValueError);
  EXPECT_THROW(Embedding(EmbeddingOptions(10, 4).padding_idx(-11)), ValueError);
  EXPECT_NO_THROW(Embedding(EmbeddingOptions(10, 4).padding_idx(-10)));
  EXPECT_THROW(Embedding(EmbeddingOptions(0, 3).padding_idx(0)), ValueError);
}

TEST(Embedding, ResetParametersIsSeededAndRezeroesPadding) {
  Generator g1(7), g2(7);
  Embedding a(EmbeddingOptions(20, 5).padding_idx(3), g1);
  Embedding b(EmbeddingOptions(20, 5).padding_idx(3), g2);
  EXPECT_EQ(a.weight().to_float_vector(), b.weight().to_float_vector());
  a.weight().data<float>()[3 * 5] = 1;
  Generator g3(7);
  a.reset_parameters(g3);
  EXPECT_EQ(a.weight().to_float_vector(), b.weight().to_float_vector());
  manual_seed(11);
  Embedding c(EmbeddingOptions(20, 5));
  manual_seed(11);
  Embedding d(EmbeddingOptions(20, 5));
  EXPECT_EQ(c.weight().to_float_vector(), d.weight().to_float_vector());
}

TEST(Embedding, OutOfRangeIdNamesPositionValueAndRange) {
  Embedding emb(EmbeddingOptions(10, 3));
  try {
    emb.forward(ids64({1, 2, 10, 3}));
    FAIL() << "expected IndexError";
  } catch (const IndexError& e) {
    EXPECT_EQ(e.position(), 2);
    EXPECT_EQ(e.value(), 10);
    EXPECT_EQ(e.low(), 0);
    EXPECT_EQ(e.high(), 10);
    EXPECT_STREQ(e.what(), "ids: value 10 at position 2 is outside the valid range [0, 10)");
  }
  EXPECT_THROW(emb.forward(ids64({-1})), IndexError);  // no Python-style wrap
  EXPECT_THROW(emb.forward(Tensor::from_vector<float>({1})), TypeError);
  EXPECT_THROW(emb.forward(Tensor()), ValueError);
}

TEST(Embedding, BadIdWithMaxNormLeavesTableUnchanged) {
  // PyTorch renormalises the rows before it raises; embedkit raises before any write.
  Tensor table = Tensor::from_vector<float>({3, 4, 30, 40, 6, 8}, Shape{3, 2});
  const std::vector<float> before = table.to_float_vector();
  Embedding emb(EmbeddingOptions(3, 2).weight(table).max_norm(1.0));
  EXPECT_THROW(emb.forward(ids64({0, 1, 2, 3})), IndexError);
  EXPECT_THROW(emb.forward(ids64({0, 1, -1})), IndexError);
  EXPECT_EQ(table.to_float_vector(), before);
}

TEST(Embedding, MaxNormRenormalisesReferencedRowsInPlace) {
  Tensor table = Tensor::from_vector<float>({3, 4, 0.3f, 0.4f, 6, 8, 1, 0}, Shape{4, 2});
  Embedding emb(EmbeddingOptions(4, 2).weight(table).max_norm(1.0));
  Tensor out = emb.forward(ids64({0, 1, 0, 3}));
  const float s = static_cast<float>(1.0 / (5.0 + 1e-7));
  EXPECT_EQ(table.item_at(0), 3 * s);
  EXPECT_EQ(table.item_at(1), 4 * s);
  EXPECT_EQ(table.item_at(2), 0.3f);  // norm 0.5: untouched
  EXPECT_EQ(table.item_at(4), 6);     // not referenced: untouched
  EXPECT_EQ(table.item_at(6), 1);     // norm == max_norm: untouched (strict >)
  EXPECT_EQ(out.item_at(0), 3 * s);
  EXPECT_EQ(out.item_at(4), 3 * s);
  EXPECT_THROW(Embedding(EmbeddingOptions(4, 2).max_norm(0.0)), ValueError);
  EXPECT_THROW(Embedding(EmbeddingOptions(4, 2).max_norm(-1.0)), ValueError);
  EXPECT_THROW(Embedding(EmbeddingOptions(4, 2).max_norm(1.0).norm_type(0)), ValueError);
}

TEST(Embedding, MaxNormInfinityAndOneNorms) {
  Tensor t1 = Tensor::from_vector<float>({-3, 1}, Shape{1, 2});
  functional::embedding(ids64({0}), t1, EmbeddingFuncOptions().max_norm(1.5).norm_type(INFINITY));
  const float s_inf = static_cast<float>(1.5 / (3.0 + 1e-7));
  EXPECT_EQ(t1.item_at(0), -3 * s_inf);
  Tensor t2 = Tensor::from_vector<float>({-3, 1}, Shape{1, 2});
  functional::embedding(ids64({0}), t2, EmbeddingFuncOptions().max_norm(2.0).norm_type(1.0));
  const float s_one = static_cast<float>(2.0 / (4.0 + 1e-7));
  EXPECT_EQ(t2.item_at(1), 1 * s_one);
}

TEST(Embedding, DenseBackwardSumsDuplicatesAndSkipsPadding) {
  Embedding emb(EmbeddingOptions(5, 2).padding_idx(0));
  Tensor ids = ids64({1, 3, 1, 0, 1, 4}, Shape{2, 3});
  std::vector<float> g(12);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(i + 1);
  WeightGrad grad = emb.backward(ids, Tensor::from_vector(g, Shape{2, 3, 2}));
  ASSERT_FALSE(grad.is_sparse());
  EXPECT_EQ(grad.dense().shape(), (Shape{5, 2}));
  EXPECT_EQ(grad.dense().to_float_vector(),
            (std::vector<float>{0, 0, 1 + 5 + 9, 2 + 6 + 10, 0, 0, 3, 4, 11, 12}));
}

TEST(Embedding, ScaleGradByFreqDividesByCount) {
  Embedding emb(EmbeddingOptions(4, 1).scale_grad_by_freq(true));
  WeightGrad g =
      emb.backward(ids64({2, 2, 2, 1}), Tensor::from_vector<float>({1, 2, 3, 4}, Shape{4, 1}));
  const float third = static_cast<float>(1.0 / 3.0);
  const float expected = std::fma(third, 3.0f, std::fma(third, 2.0f, third * 1.0f));
  EXPECT_EQ(g.dense().to_float_vector(), (std::vector<float>{0, 4, expected, 0}));
  EXPECT_NEAR(expected, 2.0f, 1e-6);
}

TEST(Embedding, SparseBackwardIsInputOrderWithoutPadding) {
  Embedding emb(EmbeddingOptions(6, 2).sparse(true).padding_idx(5));
  Tensor ids = ids64({1, 3, 1, 0, 1, 5}, Shape{2, 3});
  std::vector<float> g(12);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(i + 1);
  WeightGrad grad = emb.backward(ids, Tensor::from_vector(g, Shape{2, 3, 2}));
  ASSERT_TRUE(grad.is_sparse());
  EXPECT_EQ(grad.sparse().indices().to_int64_vector(), (std::vector<std::int64_t>{1, 3, 1, 0, 1}));
  EXPECT_EQ(grad.sparse().values().to_float_vector(),
            (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  RowSparseTensor c = grad.sparse().coalesce();
  EXPECT_EQ(c.indices().to_int64_vector(), (std::vector<std::int64_t>{0, 1, 3}));
  EXPECT_EQ(c.values().to_float_vector(), (std::vector<float>{7, 8, 15, 18, 3, 4}));
  EXPECT_THROW(Embedding(EmbeddingOptions(6, 2).sparse(true).scale_grad_by_freq(true)), ValueError);
}

TEST(Embedding, BackwardChecksItsInput) {
  Embedding emb(EmbeddingOptions(4, 2));
  EXPECT_THROW(emb.backward(ids64({1, 2}), Tensor::zeros({2, 3})), ValueError);
  EXPECT_THROW(emb.backward(ids64({1, 2}), Tensor::zeros({3, 2})), ValueError);
  EXPECT_THROW(emb.backward(ids64({1, 4}), Tensor::zeros({2, 2})), IndexError);
  EXPECT_THROW(emb.backward(ids64({1, 2}), Tensor::zeros({2, 2}, DType::Float16)), TypeError);
}

TEST(Embedding, BackwardNamesTheGradOutputShapeItExpected) {
  // A wrong rank, and the right rank with another size, fail with the same message.
  for (const Tensor& g : {Tensor::zeros({2}), Tensor::zeros({3, 2}), Tensor::zeros({2, 1, 2})}) {
    try {
      functional::embedding_backward(ids64({1, 2}), g, 4, EmbeddingFuncOptions());
      ADD_FAILURE() << "no ValueError for " << shape_string(g.shape());
    } catch (const ValueError& e) {
      EXPECT_EQ(std::string(e.what()),
                "Embedding: grad_output must have shape ids.shape + [embedding_dim], got " +
                    shape_string(g.shape()) + " for ids " + shape_string({2}));
    }
  }
}

TEST(Embedding, FromPretrainedSharesAndFreezes) {
  Tensor table = iota_table(3, 2);
  Embedding frozen = Embedding::from_pretrained(table);
  EXPECT_TRUE(frozen.weight().shares_storage_with(table));
  EXPECT_FALSE(frozen.requires_grad());
  EXPECT_THROW(frozen.backward(ids64({0}), Tensor::zeros({1, 2})), ValueError);
  Embedding trainable = Embedding::from_pretrained(
      table, EmbeddingFromPretrainedOptions().freeze(false).padding_idx(1));
  EXPECT_TRUE(trainable.requires_grad());
  EXPECT_EQ(trainable.weight().item_at(2), 2);  // padding row kept as given
  EXPECT_EQ(trainable.backward(ids64({1}), Tensor::zeros({1, 2})).dense().to_float_vector(),
            (std::vector<float>(6, 0.0f)));
  EXPECT_THROW(Embedding::from_pretrained(Tensor::zeros({3})), ValueError);
  EXPECT_THROW(Embedding::from_pretrained(Tensor::zeros({3, 2}, DType::Int64)), TypeError);
}

TEST(Embedding, Repr) {
  Embedding e(
      EmbeddingOptions(10, 3).padding_idx(0).max_norm(1.0).norm_type(1.0).scale_grad_by_freq(true));
  EXPECT_EQ(e.repr(),
            "Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0, "
            "scale_grad_by_freq=True)");
  EXPECT_EQ(Embedding(EmbeddingOptions(2, 2).sparse(true)).repr(), "Embedding(2, 2, sparse=True)");
}

TEST(Embedding, ZeroSizedTables) {
  Embedding e(EmbeddingOptions(0, 0));
  EXPECT_EQ(e.forward(Tensor::empty({0}, DType::Int64)).shape(), (Shape{0, 0}));
  EXPECT_THROW(e.forward(ids64({0})), IndexError);
  Embedding z(EmbeddingOptions(10, 0).sparse(true));
  WeightGrad g = z.backward(ids64({1, 2}), Tensor::zeros({2, 0}));
  EXPECT_EQ(g.sparse().nnz(), 0);  // no elements: empty, as PyTorch returns it
  EXPECT_EQ(g.sparse().dim(), 0);
  EXPECT_THROW(Embedding(EmbeddingOptions(-1, 3)), ValueError);
}

}  // namespace
}  // namespace embedkit::nn
