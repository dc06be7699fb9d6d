// Positional embeddings: the sinusoidal table against its formula, the learned table as an
// Embedding over positions, broadcasting over leading dimensions, gradients, and length errors.
#include <gtest/gtest.h>

#include <cmath>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/positional.hpp"
#include "embedkit/nn/sequential.hpp"
#include "layer_test_support.hpp"

namespace embedkit::nn {
namespace {

using layers_test::bitwise_equal;
using layers_test::randn;

TEST(Positional, SinusoidalTableFollowsTheFormula) {
  const std::int64_t max_len = 50, dim = 6;
  SinusoidalPositionalEmbedding pos(max_len, dim);
  const Tensor& t = pos.table();
  ASSERT_EQ(t.shape(), (Shape{max_len, dim}));
  // Position 0: sin 0 = 0 in even columns, cos 0 = 1 in odd ones.
  for (std::int64_t j = 0; j < dim; ++j) EXPECT_EQ(t.item_at(j), j % 2 == 0 ? 0.0 : 1.0);
  // Column pair 0 has wavelength 2 pi: sin(pos), cos(pos).
  EXPECT_EQ(t.item_at(7 * dim + 0), static_cast<double>(static_cast<float>(std::sin(7.0))));
  EXPECT_EQ(t.item_at(7 * dim + 1), static_cast<double>(static_cast<float>(std::cos(7.0))));
  // Column pair i = 2 (columns 4, 5): pos / 10000^(4/6).
  const double angle = 31.0 / std::pow(10000.0, 4.0 / 6.0);
  EXPECT_EQ(t.item_at(31 * dim + 4), static_cast<double>(static_cast<float>(std::sin(angle))));
  EXPECT_EQ(t.item_at(31 * dim + 5), static_cast<double>(static_cast<float>(std::cos(angle))));
  // Every pair lies on the unit circle.
  for (std::int64_t p = 0; p < max_len; ++p) {
    for (std::int64_t j = 0; j < dim; j += 2) {
      const double s = t.item_at(p * dim + j), c = t.item_at(p * dim + j + 1);
      EXPECT_NEAR(s * s + c * c, 1.0, 1e-6);
    }
  }
  // An odd dimension ends with a sine column.
  Tensor odd = SinusoidalPositionalEmbedding::make_table(3, 5);
  EXPECT_EQ(odd.item_at(2 * 5 + 4),
            static_cast<double>(static_cast<float>(std::sin(2.0 / std::pow(10000.0, 4.0 / 5.0)))));
}

TEST(Positional, SinusoidalForwardAddsRowsAndPassesGradients) {
  Generator gen(51);
  SinusoidalPositionalEmbedding pos(10, 4);
  Tensor rows = pos.forward(std::int64_t{3});
  ASSERT_EQ(rows.shape(), (Shape{3, 4}));
  for (std::int64_t i = 0; i < 12; ++i) EXPECT_EQ(rows.item_at(i), pos.table().item_at(i));
  EXPECT_EQ(pos.forward(std::int64_t{0}).shape(), (Shape{0, 4}));
  Tensor x = randn({2, 3, 4}, gen);
  Tensor y = pos.forward(x);
  for (std::int64_t b = 0; b < 2; ++b) {
    for (std::int64_t i = 0; i < 12; ++i) {
      EXPECT_EQ(y.data<float>()[b * 12 + i], x.data<float>()[b * 12 + i] + rows.data<float>()[i]);
    }
  }
  Tensor g = randn({2, 3, 4}, gen);
  EXPECT_TRUE(bitwise_equal(pos.backward(g), g));
  EXPECT_TRUE(pos.named_parameters().empty());
}

TEST(Positional, LearnedIsAnEmbeddingOverPositions) {
  Generator gen(52);
  LearnedPositionalEmbedding pos(8, 3, gen);
  EXPECT_EQ(pos.named_parameters().size(), 1u);
  EXPECT_EQ(pos.named_parameters()[0].first, "weight");
  EXPECT_TRUE(pos.named_parameters()[0].second.shares_storage_with(pos.embedding().weight()));
  Tensor x = randn({2, 5, 3}, gen);  // [B, L, D]
  Tensor y = pos.forward(x);
  const float* w = pos.weight().data<float>();
  for (std::int64_t b = 0; b < 2; ++b) {
    for (std::int64_t l = 0; l < 5; ++l) {
      for (std::int64_t d = 0; d < 3; ++d) {
        const std::int64_t i = (b * 5 + l) * 3 + d;
        EXPECT_EQ(y.data<float>()[i], x.data<float>()[i] + w[l * 3 + d]);
      }
    }
  }
  Tensor g = randn({2, 5, 3}, gen);
  EXPECT_TRUE(bitwise_equal(pos.backward(g), g));
  // Row l of the table's gradient sums g over the batch; rows past L get nothing.
  const Tensor grad = pos.gradients()[0].second;
  ASSERT_EQ(grad.shape(), (Shape{8, 3}));
  for (std::int64_t l = 0; l < 8; ++l) {
    for (std::int64_t d = 0; d < 3; ++d) {
      const float expected =
          l < 5 ? g.data<float>()[l * 3 + d] + g.data<float>()[(5 + l) * 3 + d] : 0.0f;
      EXPECT_EQ(grad.item_at(l * 3 + d), expected) << l << "," << d;
    }
  }
  EXPECT_TRUE(bitwise_equal(pos.forward(std::int64_t{2}),
                            Tensor::from_floats({w[0], w[1], w[2], w[3], w[4], w[5]}, {2, 3})));
  // Composes in a Sequential, and names its table as PyTorch's state_dict would.
  Sequential model;
  model.push_back(SinusoidalPositionalEmbedding(8, 3));
  model.push_back(LearnedPositionalEmbedding(8, 3, gen));
  EXPECT_EQ(model.named_parameters()[0].first, "1.weight");
  EXPECT_EQ(model.forward(x).shape(), x.shape());
}

TEST(Positional, TooLongOrMisshapenSequencesAreErrors) {
  Generator gen(53);
  SinusoidalPositionalEmbedding fixed(4, 2);
  LearnedPositionalEmbedding learned(4, 2, gen);
  EXPECT_THROW(fixed.forward(std::int64_t{5}), ValueError);
  EXPECT_THROW(learned.forward(std::int64_t{5}), ValueError);
  EXPECT_THROW(fixed.forward(std::int64_t{-1}), ValueError);
  EXPECT_THROW(fixed.forward(randn({1, 5, 2}, gen)), ValueError);
  EXPECT_THROW(learned.forward(randn({1, 5, 2}, gen)), ValueError);
  EXPECT_THROW(fixed.forward(randn({1, 4, 3}, gen)), ValueError);
  EXPECT_THROW(learned.forward(randn({4}, gen)), ValueError);
  EXPECT_THROW(learned.forward(Tensor::zeros({1, 4, 2}, DType::Float16)), TypeError);
  EXPECT_THROW(learned.backward(randn({1, 4, 2}, gen)), ValueError);  // before forward
  learned.forward(randn({1, 4, 2}, gen));
  EXPECT_THROW(learned.backward(randn({1, 3, 2}, gen)), ValueError);
  EXPECT_THROW(SinusoidalPositionalEmbedding(-1, 2), ValueError);
  EXPECT_NO_THROW(fixed.forward(randn({3, 2, 4, 2}, gen)));  // any leading dimensions
}

}  // namespace
}  // namespace embedkit::nn
