// Dropout: the mask is embedkit's own (not PyTorch's random stream), so its statistics are
// tested here; the arithmetic, given a mask, is compared with LibTorch in test_layers_vs_torch.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/dropout.hpp"
#include "layer_test_support.hpp"

namespace embedkit::nn {
namespace {

using layers_test::bitwise_equal;
using layers_test::full;
using layers_test::randn;

TEST(Dropout, DropRateAndScaleFollowP) {
  const std::int64_t n = 200000;
  for (double p : {0.1, 0.5, 0.9}) {
    SCOPED_TRACE(p);
    Generator gen(31);
    Dropout dropout(p, gen);
    Tensor y = dropout.forward(full({n}, 1.0f));
    const float scale = 1.0f / static_cast<float>(1.0 - p);
    std::int64_t dropped = 0;
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float v = y.data<float>()[i];
      if (v == 0.0f) {
        ++dropped;
      } else {
        ASSERT_EQ(v, scale) << i;  // every kept element is scaled by exactly 1 / (1 - p)
      }
      sum += v;
    }
    // The dropped count is Binomial(n, p): allow 5 standard deviations.
    const double sigma = std::sqrt(static_cast<double>(n) * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(dropped), static_cast<double>(n) * p, 5 * sigma);
    // Inverted scaling keeps the mean: E[y] = 1.
    EXPECT_NEAR(sum / static_cast<double>(n), 1.0, 5 * sigma * scale / static_cast<double>(n));
  }
}

TEST(Dropout, MasksAreIndependentAcrossElementsAndCalls) {
  Generator gen(32);
  Dropout dropout(0.5, gen);
  const std::int64_t n = 100000;
  Tensor a = dropout.forward(full({n}, 1.0f));
  Tensor b = dropout.forward(full({n}, 1.0f));
  // Neighbouring elements, and the same element in two calls, agree half the time.
  std::int64_t same_neighbour = 0;
  std::int64_t same_call = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (i + 1 < n && (a.item_at(i) == 0) == (a.item_at(i + 1) == 0)) ++same_neighbour;
    if ((a.item_at(i) == 0) == (b.item_at(i) == 0)) ++same_call;
  }
  const auto half = static_cast<double>(n) / 2.0;
  const double sigma = std::sqrt(half / 2.0);
  EXPECT_NEAR(static_cast<double>(same_neighbour), half, 5 * sigma);
  EXPECT_NEAR(static_cast<double>(same_call), half, 5 * sigma);
}

TEST(Dropout, BackwardUsesTheForwardMask) {
  Generator gen(33);
  Dropout dropout(0.3, gen);
  Tensor x = randn({6, 50}, gen);
  Tensor y = dropout.forward(x);
  Tensor g = randn({6, 50}, gen);
  Tensor gx = dropout.backward(g);
  const Tensor& noise = dropout.noise();
  ASSERT_TRUE(noise.defined());
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const float k = noise.data<float>()[i];
    ASSERT_EQ(y.data<float>()[i], x.data<float>()[i] * k) << i;
    ASSERT_EQ(gx.data<float>()[i], g.data<float>()[i] * k) << i;
  }
  // backward() again: the same mask, not a new one.
  EXPECT_TRUE(bitwise_equal(dropout.backward(g), gx));
}

TEST(Dropout, SameSeedSameMasks) {
  Generator g1(34);
  Generator g2(34);
  Dropout a(0.5, g1);
  Dropout b(0.5, g2);
  Tensor x = full({1000}, 1.0f);
  EXPECT_TRUE(bitwise_equal(a.forward(x), b.forward(x)));
  EXPECT_TRUE(bitwise_equal(a.forward(x), b.forward(x)));
  // The module's generator can be reseeded.
  a.generator().seed(7);
  b.generator().seed(7);
  EXPECT_TRUE(bitwise_equal(a.forward(x), b.forward(x)));
  // manual_seed reproduces modules made with the default generator.
  manual_seed(99);
  Dropout c(0.5);
  manual_seed(99);
  Dropout d(0.5);
  EXPECT_TRUE(bitwise_equal(c.forward(x), d.forward(x)));
}

TEST(Dropout, IdentityInEvalModeAndForPZero) {
  Generator gen(35);
  Tensor x = randn({3, 4}, gen);
  Tensor g = randn({3, 4}, gen);
  Dropout eval_mode(0.5, gen);
  eval_mode.eval();
  Tensor y = eval_mode.forward(x);
  EXPECT_TRUE(y.shares_storage_with(x));  // PyTorch returns the input itself
  EXPECT_TRUE(bitwise_equal(eval_mode.backward(g), g));
  EXPECT_FALSE(eval_mode.noise().defined());
  Dropout zero(0.0, gen);
  EXPECT_TRUE(bitwise_equal(zero.forward(x), x));
  EXPECT_TRUE(bitwise_equal(zero.backward(g), g));
  // An empty input is returned as is.
  Dropout half(0.5, gen);
  EXPECT_EQ(half.forward(Tensor::zeros({0, 4})).shape(), (Shape{0, 4}));
}

TEST(Dropout, POneDropsEverything) {
  Generator gen(36);
  Dropout all(1.0, gen);
  const float inf = std::numeric_limits<float>::infinity();
  Tensor y = all.forward(Tensor::from_floats({1.0f, -2.0f, inf}, {3}));
  EXPECT_EQ(y.item_at(0), 0.0);
  EXPECT_EQ(y.item_at(1), 0.0);
  EXPECT_TRUE(std::isnan(y.item_at(2)));  // input * 0, as PyTorch
  EXPECT_EQ(all.backward(Tensor::from_floats({5, 6, 7}, {3})).to_float_vector(),
            (std::vector<float>{0, 0, 0}));
}

TEST(Dropout, RejectsBadArguments) {
  EXPECT_THROW(Dropout(-0.1), ValueError);
  EXPECT_THROW(Dropout(1.5), ValueError);
  EXPECT_THROW(Dropout(std::nan("")), ValueError);
  Generator gen(37);
  Dropout dropout(0.5, gen);
  EXPECT_THROW(dropout.forward(Tensor::zeros({2}, DType::Int64)), TypeError);
  dropout.forward(Tensor::zeros({2, 3}));
  EXPECT_THROW(dropout.backward(Tensor::zeros({3, 2})), ValueError);
  EXPECT_EQ(Dropout(0.5).repr(), "Dropout(p=0.5, inplace=False)");
}

}  // namespace
}  // namespace embedkit::nn
