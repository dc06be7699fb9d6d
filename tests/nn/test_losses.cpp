// Losses without LibTorch: values worked out by hand, stability at extreme logits, gradients by
// finite differences, and every error the headers promise.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/bce_with_logits_loss.hpp"
#include "embedkit/nn/cross_entropy_loss.hpp"
#include "embedkit/nn/mse_loss.hpp"
#include "embedkit/nn/nll_loss.hpp"
#include "layer_test_support.hpp"

namespace embedkit::nn {
namespace {

using layers_test::randint;
using layers_test::randn;

Tensor ids(std::vector<std::int64_t> v) {
  return Tensor::from_vector(v);
}

TEST(Losses, CrossEntropyHandValues) {
  // Uniform logits: loss log(C), gradient softmax - one_hot = 1/C - [c == t], over N for Mean.
  Tensor x = Tensor::zeros({2, 4});
  LossOutput out = functional::cross_entropy(x, ids({1, 3}));
  EXPECT_FLOAT_EQ(static_cast<float>(out.loss.item()), std::log(4.0f));
  EXPECT_EQ(out.loss.dim(), 0);
  EXPECT_FLOAT_EQ(static_cast<float>(out.grad_input.item_at(0)), 0.25f / 2);
  EXPECT_FLOAT_EQ(static_cast<float>(out.grad_input.item_at(1)), -0.75f / 2);
  LossOutput none = functional::cross_entropy(x, ids({1, 3}),
                                              CrossEntropyLossOptions().reduction(Reduction::None));
  EXPECT_EQ(none.loss.shape(), (Shape{2}));
  EXPECT_FLOAT_EQ(static_cast<float>(none.grad_input.item_at(1)), -0.75f);
  LossOutput sum = functional::cross_entropy(x, ids({1, 3}),
                                             CrossEntropyLossOptions().reduction(Reduction::Sum));
  EXPECT_FLOAT_EQ(static_cast<float>(sum.loss.item()), 2 * std::log(4.0f));
}

TEST(Losses, CrossEntropyIsFiniteAtExtremeLogits) {
  Tensor x = Tensor::from_floats({100, -100, 0, -100, 100, 0, 1e4f, -1e4f, 0}, {3, 3});
  LossOutput right = functional::cross_entropy(x, ids({0, 1, 0}));
  EXPECT_NEAR(right.loss.item(), 0.0, 1e-6);
  LossOutput wrong = functional::cross_entropy(x, ids({1, 0, 1}));
  // Each wrong class is 200 (or 20000) below the right one.
  EXPECT_FLOAT_EQ(static_cast<float>(wrong.loss.item()), (200.0f + 200.0f + 20000.0f) / 3);
  for (std::int64_t i = 0; i < 9; ++i) {
    EXPECT_TRUE(std::isfinite(right.grad_input.item_at(i)));
    EXPECT_TRUE(std::isfinite(wrong.grad_input.item_at(i)));
  }
}

TEST(Losses, IgnoreIndexAndClassWeights) {
  Generator gen(41);
  Tensor x = randn({4, 3}, gen);
  // An ignored target may be anything, even out of range; it adds nothing.
  LossOutput with_ignored = functional::cross_entropy(x, ids({2, -100, 0, -100}));
  Tensor kept = Tensor::from_floats(
      {x.to_float_vector()[6], x.to_float_vector()[7], x.to_float_vector()[8]}, {1, 3});
  Tensor x02 = Tensor::empty({2, 3});
  for (std::int64_t c = 0; c < 3; ++c) {
    x02.data<float>()[c] = x.data<float>()[c];
    x02.data<float>()[3 + c] = kept.data<float>()[c];
  }
  LossOutput only_kept = functional::cross_entropy(x02, ids({2, 0}));
  EXPECT_FLOAT_EQ(static_cast<float>(with_ignored.loss.item()),
                  static_cast<float>(only_kept.loss.item()));
  for (std::int64_t c = 0; c < 3; ++c) {
    EXPECT_EQ(with_ignored.grad_input.item_at(3 + c), 0.0);
    EXPECT_EQ(with_ignored.grad_input.item_at(9 + c), 0.0);
  }
  // All ignored: the mean is 0 / 0 = NaN, the gradient zero.
  LossOutput none_left =
      functional::cross_entropy(x, ids({5, 5, 5, 5}), CrossEntropyLossOptions().ignore_index(5));
  EXPECT_TRUE(std::isnan(none_left.loss.item()));
  EXPECT_EQ(layers_test::max_abs(none_left.grad_input), 0.0);
  // Weighted mean: sum of w[t] * loss / sum of w[t].
  Tensor w = Tensor::from_floats({1.0f, 2.0f, 3.0f}, {3});
  NLLLossOptions weighted = NLLLossOptions().weight(w);
  Tensor logp = Tensor::from_floats({-1, -2, -3, -4, -5, -6}, {2, 3});
  LossOutput nll = functional::nll_loss(logp, ids({2, 0}), weighted);
  EXPECT_FLOAT_EQ(static_cast<float>(nll.loss.item()), (3 * 3.0f + 1 * 4.0f) / 4.0f);
  EXPECT_EQ(nll.grad_input.to_float_vector(), (std::vector<float>{0, 0, -0.75f, -0.25f, 0, 0}));
}

TEST(Losses, EmptyBatchAndUnbatchedInput) {
  Tensor x = Tensor::zeros({0, 3});
  Tensor t = Tensor::zeros({0}, DType::Int64);
  EXPECT_TRUE(std::isnan(functional::cross_entropy(x, t).loss.item()));
  EXPECT_EQ(functional::cross_entropy(x, t, CrossEntropyLossOptions().reduction(Reduction::Sum))
                .loss.item(),
            0.0);
  EXPECT_EQ(functional::cross_entropy(x, t, CrossEntropyLossOptions().reduction(Reduction::None))
                .loss.shape(),
            (Shape{0}));
  EXPECT_EQ(functional::cross_entropy(x, t).grad_input.shape(), (Shape{0, 3}));
  // [C] input with a 0-dim target: one sample, a 0-dim loss for every reduction.
  Tensor one = Tensor::from_floats({0, 0}, {2});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    LossOutput out = functional::cross_entropy(one, Tensor::scalar<std::int64_t>(1),
                                               CrossEntropyLossOptions().reduction(r));
    EXPECT_EQ(out.loss.dim(), 0) << reduction_name(r);
    EXPECT_FLOAT_EQ(static_cast<float>(out.loss.item()), std::log(2.0f));
    EXPECT_EQ(out.grad_input.shape(), (Shape{2}));
  }
}

TEST(Losses, LabelSmoothingHandValue) {
  // Uniform logits: every log-probability is -log C, so smoothing changes nothing.
  Tensor x = Tensor::zeros({3, 5});
  LossOutput out =
      functional::cross_entropy(x, ids({0, 1, 4}), CrossEntropyLossOptions().label_smoothing(0.3));
  EXPECT_FLOAT_EQ(static_cast<float>(out.loss.item()), std::log(5.0f));
  // Full smoothing on uniform logits: the target is the uniform distribution, gradient 0.
  LossOutput full =
      functional::cross_entropy(x, ids({0, 1, 4}), CrossEntropyLossOptions().label_smoothing(1.0));
  EXPECT_LE(layers_test::max_abs(full.grad_input), 1e-8);
}

TEST(Losses, MseAndBceHandValues) {
  Tensor x = Tensor::from_floats({1, 2, 3}, {3});
  Tensor y = Tensor::from_floats({1, 0, 5}, {3});
  LossOutput mse = functional::mse_loss(x, y);
  EXPECT_FLOAT_EQ(static_cast<float>(mse.loss.item()), 8.0f / 3);
  EXPECT_EQ(mse.grad_input.to_float_vector(),
            (std::vector<float>{0.0f, static_cast<float>(2.0 / 3) * 2,
                                static_cast<float>(2.0 / 3) * -2}));
  EXPECT_EQ(functional::mse_loss(x, y, Reduction::Sum).loss.item(), 8.0);
  EXPECT_TRUE(std::isnan(functional::mse_loss(Tensor::zeros({0}), Tensor::zeros({0})).loss.item()));
  // BCE of logit 0 is log 2 whatever the target; at +-100 it is 0 or 100.
  Tensor logits = Tensor::from_floats({0, 0, 100, -100, 100, -100}, {6});
  Tensor targets = Tensor::from_floats({0, 1, 1, 0, 0, 1}, {6});
  LossOutput bce = functional::binary_cross_entropy_with_logits(
      logits, targets, BCEWithLogitsLossOptions().reduction(Reduction::None));
  const std::vector<float> expected = {std::log(2.0f), std::log(2.0f), 0, 0, 100, 100};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_FLOAT_EQ(static_cast<float>(bce.loss.item_at(static_cast<std::int64_t>(i))), expected[i])
        << i;
  }
  EXPECT_EQ(bce.grad_input.to_float_vector(), (std::vector<float>{0.5f, -0.5f, 0, 0, 1, -1}));
  // pos_weight scales the positive term: target 1 at logit 0 costs pw * log 2.
  LossOutput pw = functional::binary_cross_entropy_with_logits(
      Tensor::zeros({1, 2}), Tensor::from_floats({1, 1}, {1, 2}),
      BCEWithLogitsLossOptions()
          .pos_weight(Tensor::from_floats({3, 0.5f}, {2}))
          .reduction(Reduction::None));
  EXPECT_FLOAT_EQ(static_cast<float>(pw.loss.item_at(0)), 3 * std::log(2.0f));
  EXPECT_FLOAT_EQ(static_cast<float>(pw.loss.item_at(1)), 0.5f * std::log(2.0f));
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  Generator gen(42);
  Tensor t = randint({5}, gen, 4);
  t.data<std::int64_t>()[2] = -100;
  Tensor w = layers_test::uniform({4}, gen, 0.5, 2.0);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    SCOPED_TRACE(std::string(reduction_name(r)));
    Tensor x = randn({5, 4}, gen, 2.0);
    // None: d(sum of the per-sample losses)/dx.
    auto total = [](const Tensor& loss) {
      double s = 0;
      for (std::int64_t i = 0; i < loss.numel(); ++i) s += loss.item_at(i);
      return s;
    };
    const auto ce = CrossEntropyLossOptions().reduction(r).weight(w).label_smoothing(0.2);
    EXPECT_TRUE(layers_test::gradient_matches(
        functional::cross_entropy(x, t, ce).grad_input,
        layers_test::numeric_gradient(
            x, [&] { return total(functional::cross_entropy(x, t, ce).loss); }, 1e-2),
        2e-3));
    Tensor y = randn({5, 4}, gen);
    EXPECT_TRUE(layers_test::gradient_matches(
        functional::mse_loss(x, y, r).grad_input,
        layers_test::numeric_gradient(
            x, [&] { return total(functional::mse_loss(x, y, r).loss); }, 1e-2),
        2e-3));
    Tensor targets = layers_test::uniform({5, 4}, gen, 0.0, 1.0);
    const auto bce = BCEWithLogitsLossOptions().reduction(r).pos_weight(w).weight(
        layers_test::uniform({5, 4}, gen, 0.5, 1.5));
    EXPECT_TRUE(layers_test::gradient_matches(
        functional::binary_cross_entropy_with_logits(x, targets, bce).grad_input,
        layers_test::numeric_gradient(
            x,
            [&] {
              return total(functional::binary_cross_entropy_with_logits(x, targets, bce).loss);
            },
            1e-2),
        2e-3));
  }
}

TEST(Losses, ErrorsAreTypedAndRaisedBeforeComputing) {
  Tensor x = Tensor::zeros({3, 4});
  // Target out of range: IndexError naming the position and value.
  try {
    functional::cross_entropy(x, ids({0, 4, 1}));
    ADD_FAILURE() << "no exception";
  } catch (const IndexError& e) {
    EXPECT_EQ(e.position(), 1);
    EXPECT_EQ(e.value(), 4);
    EXPECT_EQ(e.low(), 0);
    EXPECT_EQ(e.high(), 4);
  }
  EXPECT_THROW(functional::nll_loss(x, ids({0, -1, 1})), IndexError);
  // Wrong element types.
  EXPECT_THROW(functional::cross_entropy(x, Tensor::zeros({3})), TypeError);
  EXPECT_THROW(functional::cross_entropy(Tensor::zeros({3, 4}, DType::Float16), ids({0, 1, 2})),
               TypeError);
  EXPECT_THROW(
      functional::cross_entropy(x, ids({0, 1, 2}),
                                CrossEntropyLossOptions().weight(Tensor::zeros({4}, DType::Int64))),
      TypeError);
  EXPECT_THROW(functional::mse_loss(x, Tensor::zeros({3, 4}, DType::Int32)), TypeError);
  EXPECT_THROW(
      functional::binary_cross_entropy_with_logits(Tensor::zeros({3, 4}, DType::BFloat16), x),
      TypeError);
  // Int32 targets are accepted, as embedkit's ids are.
  EXPECT_NO_THROW(functional::cross_entropy(x, Tensor::from_vector<std::int32_t>({0, 1, 2})));
  // Wrong shapes.
  EXPECT_THROW(functional::cross_entropy(x, ids({0, 1})), ValueError);
  EXPECT_THROW(functional::cross_entropy(Tensor::zeros({2, 3, 4}), ids({0, 1})), ValueError);
  EXPECT_THROW(functional::cross_entropy(Tensor::scalar(1.0f), ids({0})), ValueError);
  EXPECT_THROW(functional::cross_entropy(x, Tensor::zeros({3, 1}, DType::Int64)), ValueError);
  EXPECT_THROW(functional::cross_entropy(x, ids({0, 1, 2}),
                                         CrossEntropyLossOptions().weight(Tensor::zeros({3}))),
               ValueError);
  EXPECT_THROW(
      functional::cross_entropy(x, ids({0, 1, 2}), CrossEntropyLossOptions().label_smoothing(1.5)),
      ValueError);
  EXPECT_THROW(functional::cross_entropy(x, Tensor()), ValueError);
  EXPECT_THROW(functional::mse_loss(x, Tensor::zeros({4, 3})), ValueError);
  EXPECT_THROW(functional::binary_cross_entropy_with_logits(x, Tensor::zeros({12})), ValueError);
  EXPECT_THROW(functional::binary_cross_entropy_with_logits(
                   x, x, BCEWithLogitsLossOptions().pos_weight(Tensor::zeros({3}))),
               ValueError);
  EXPECT_THROW(functional::binary_cross_entropy_with_logits(
                   x, x, BCEWithLogitsLossOptions().weight(Tensor::zeros({3, 1}))),
               ValueError);
}

TEST(Losses, ModuleFormsUseTheirOptions) {
  Tensor x = Tensor::zeros({2, 4});
  Tensor t = ids({1, 3});
  CrossEntropyLoss ce(CrossEntropyLossOptions().reduction(Reduction::Sum));
  EXPECT_FLOAT_EQ(static_cast<float>(ce.forward(x, t).loss.item()), 2 * std::log(4.0f));
  NLLLoss nll(NLLLossOptions().ignore_index(3));
  EXPECT_FLOAT_EQ(
      static_cast<float>(
          nll.forward(Tensor::from_floats({0, -1, 0, 0, 0, 0, 0, -7}, {2, 4}), t).loss.item()),
      1.0f);
  EXPECT_EQ(MSELoss(Reduction::Sum).forward(x, Tensor::zeros({2, 4})).loss.item(), 0.0);
  EXPECT_EQ(BCEWithLogitsLoss().repr(), "BCEWithLogitsLoss()");
  EXPECT_EQ(reduction_name(Reduction::Mean), "mean");
}

}  // namespace
}  // namespace embedkit::nn
