// Activations and log-softmax without LibTorch: the documented edge values (-0, NaN, extreme
// inputs), stability, gradients by finite differences, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/activation.hpp"
#include "layer_test_support.hpp"

namespace embedkit::nn {
namespace {

using layers_test::randn;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(Activations, ReluEdgeValues) {
  ReLU relu;
  Tensor y = relu.forward(Tensor::from_floats({-2.0f, -0.0f, 0.0f, 3.0f, kNaN, -kInf, kInf}, {7}));
  const float* v = y.data<float>();
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_FALSE(std::signbit(v[0]));
  EXPECT_TRUE(std::signbit(v[1]));  // relu(-0) = -0, as std::max(-0, 0) in PyTorch
  EXPECT_EQ(v[3], 3.0f);
  EXPECT_TRUE(std::isnan(v[4]));
  EXPECT_EQ(v[5], 0.0f);
  EXPECT_EQ(v[6], kInf);
  Tensor g = relu.backward(Tensor::from_floats({1, 2, 3, 4, 5, 6, 7}, {7}));
  // Zero where the output is <= 0 (relu'(0) = 0); the gradient passes through a NaN output.
  EXPECT_EQ(g.to_float_vector(), (std::vector<float>{0, 0, 0, 4, 5, 0, 7}));
}

TEST(Activations, SigmoidAndTanhAreFiniteAtExtremes) {
  Tensor x = Tensor::from_floats({-1000.0f, -100.0f, -20.0f, 0.0f, 20.0f, 100.0f, 1000.0f}, {7});
  Tensor c = Tensor::from_floats({1, 1, 1, 1, 1, 1, 1}, {7});
  Sigmoid sigmoid;
  Tensor s = sigmoid.forward(x);
  Tensor gs = sigmoid.backward(c);
  Tanh tanh;
  Tensor t = tanh.forward(x);
  Tensor gt = tanh.backward(c);
  for (std::int64_t i = 0; i < 7; ++i) {
    EXPECT_TRUE(std::isfinite(s.item_at(i)) && std::isfinite(gs.item_at(i))) << i;
    EXPECT_TRUE(std::isfinite(t.item_at(i)) && std::isfinite(gt.item_at(i))) << i;
    EXPECT_GE(s.item_at(i), 0.0);
    EXPECT_LE(s.item_at(i), 1.0);
  }
  EXPECT_EQ(s.item_at(0), 0.0);
  EXPECT_EQ(s.item_at(3), 0.5);
  EXPECT_EQ(s.item_at(6), 1.0);
  EXPECT_EQ(t.item_at(0), -1.0);
  EXPECT_EQ(t.item_at(6), 1.0);
  EXPECT_EQ(gt.item_at(3), 1.0);   // tanh'(0) = 1
  EXPECT_EQ(gs.item_at(3), 0.25);  // sigmoid'(0) = 1/4
}

template <class M>
void expect_gradient_matches_finite_differences(M& module, Tensor x, Generator& gen) {
  Tensor c = randn(x.shape(), gen);
  auto loss = [&] {
    M fresh = module;
    return layers_test::dot(fresh.forward(x), c);
  };
  module.forward(x);
  Tensor gx = module.backward(c);
  EXPECT_TRUE(
      layers_test::gradient_matches(gx, layers_test::numeric_gradient(x, loss, 1e-2), 2e-3));
}

TEST(Activations, GradientsMatchFiniteDifferences) {
  Generator gen(21);
  {
    SCOPED_TRACE("Tanh");
    Tanh m;
    expect_gradient_matches_finite_differences(m, randn({3, 4}, gen), gen);
  }
  {
    SCOPED_TRACE("Sigmoid");
    Sigmoid m;
    expect_gradient_matches_finite_differences(m, randn({3, 4}, gen, 2.0), gen);
  }
  {
    SCOPED_TRACE("LogSoftmax");
    LogSoftmax m;
    expect_gradient_matches_finite_differences(m, randn({2, 3, 5}, gen, 3.0), gen);
  }
  {
    SCOPED_TRACE("ReLU");
    ReLU m;
    // Away from the kink, where finite differences are defined.
    Tensor x = Tensor::from_floats({-1.5f, 0.7f, 2.0f, -0.3f, 1.1f, -2.2f}, {2, 3});
    expect_gradient_matches_finite_differences(m, x, gen);
  }
}

TEST(Activations, LogSoftmaxIsStableAtExtremeLogits) {
  Tensor x =
      Tensor::from_floats({100.0f, -100.0f, 0.0f, 1e30f, -1e30f, 1e30f, -kInf, 0.0f, 1.0f}, {3, 3});
  Tensor y = functional::log_softmax(x);
  // Row 0: log-probabilities of [100, -100, 0].
  EXPECT_EQ(y.item_at(0), 0.0);
  EXPECT_FLOAT_EQ(static_cast<float>(y.item_at(1)), -200.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(y.item_at(2)), -100.0f);
  // Row 1: two equal huge logits share the mass.
  EXPECT_FLOAT_EQ(static_cast<float>(y.item_at(3)), -std::log(2.0f));
  EXPECT_FLOAT_EQ(static_cast<float>(y.item_at(4)), -2e30f);
  // Row 2: an impossible class is -inf, the others as without it.
  EXPECT_EQ(y.item_at(6), -kInf);
  EXPECT_FLOAT_EQ(static_cast<float>(y.item_at(7)), -std::log1p(std::exp(1.0f)));
  Tensor p = functional::softmax(x);
  for (std::int64_t r = 0; r < 3; ++r) {
    double sum = 0;
    for (std::int64_t c = 0; c < 3; ++c) sum += p.item_at(r * 3 + c);
    EXPECT_NEAR(sum, 1.0, 1e-6) << r;
  }
}

TEST(Activations, LogSoftmaxRowsSumToOneAndHandleEmptyShapes) {
  Generator gen(22);
  Tensor x = randn({4, 7}, gen, 10.0);
  Tensor y = functional::log_softmax(x);
  for (std::int64_t r = 0; r < 4; ++r) {
    double sum = 0;
    for (std::int64_t c = 0; c < 7; ++c) sum += std::exp(y.item_at(r * 7 + c));
    EXPECT_NEAR(sum, 1.0, 1e-6) << r;
  }
  EXPECT_EQ(functional::log_softmax(Tensor::zeros({0, 5})).shape(), (Shape{0, 5}));
  EXPECT_EQ(functional::log_softmax(Tensor::zeros({3, 0})).shape(), (Shape{3, 0}));
  // One class: log-probability 0 whatever the logit.
  EXPECT_EQ(functional::log_softmax(Tensor::from_floats({-5.0f, 80.0f}, {2, 1})).to_float_vector(),
            (std::vector<float>{0.0f, 0.0f}));
}

TEST(Activations, RejectWrongInputs) {
  EXPECT_THROW(ReLU().forward(Tensor::zeros({2}, DType::Int32)), TypeError);
  EXPECT_THROW(Tanh().forward(Tensor::zeros({2}, DType::Float16)), TypeError);
  EXPECT_THROW(Sigmoid().forward(Tensor()), ValueError);
  EXPECT_THROW(functional::log_softmax(Tensor::scalar(1.0f)), ValueError);
  EXPECT_THROW(functional::softmax(Tensor::zeros({2}, DType::Int64)), TypeError);
  ReLU relu;
  relu.forward(Tensor::zeros({2, 3}));
  EXPECT_THROW(relu.backward(Tensor::zeros({3, 2})), ValueError);
  EXPECT_THROW(relu.backward(Tensor::zeros({2, 3}, DType::BFloat16)), TypeError);
}

}  // namespace
}  // namespace embedkit::nn
