// Losses against LibTorch 1.13's autograd: the loss and d(loss)/d(input) for every reduction,
// ignore_index, class weights, label smoothing, pos_weight, and edge shapes (empty batch, one
// sample, one class, unbatched input, logits of +-100).
//
// Tolerances (layer_test_support.hpp): NLL and MSE's per-element values and all their
// gradients are bitwise (same float32 expressions); NLL's reduced loss is bitwise too (the same
// cascade sum). Everything that goes through exp/log (cross-entropy, BCE) or a long sum is
// close() with rtol 1e-6 (about 8 float32 ulps) against the tensor's own magnitude, max |ref|.
// Cross-entropy losses are judged against max(max |ref|, 1): a log-probability carries an
// absolute error of about 1e-7 from its log-sum-exp, which PyTorch sums in float32 and
// embedkit in double, so a loss of 1e-4 (a confident right prediction) may differ from
// PyTorch's in its fourth digit while both are within 1e-7 of the exact value.
#include <ATen/ATen.h>
#include <ATen/core/Reduction.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/bce_with_logits_loss.hpp"
#include "embedkit/nn/cross_entropy_loss.hpp"
#include "embedkit/nn/mse_loss.hpp"
#include "embedkit/nn/nll_loss.hpp"
#include "layer_test_support.hpp"
#include "support/torch_bridge.hpp"

namespace embedkit::nn {
namespace {

using embedkit_test::from_torch;
using embedkit_test::leaf;
using embedkit_test::maybe_torch;
using embedkit_test::to_torch;
using layers_test::bitwise_equal;
using layers_test::close;
using layers_test::max_abs;
using layers_test::randn;

constexpr double kLossRtol = 1e-6;

// The error scale of quantities built from log-probabilities (see the tolerances above).
double log_prob_scale(const Tensor& ref) {
  return std::max(max_abs(ref), 1.0);
}

std::int64_t torch_reduction(Reduction r) {
  switch (r) {
    case Reduction::None:
      return at::Reduction::None;
    case Reduction::Mean:
      return at::Reduction::Mean;
    case Reduction::Sum:
      return at::Reduction::Sum;
  }
  return at::Reduction::Mean;
}

// Runs backward on a torch loss the way LossOutput defines grad_input: d(loss)/dx for a reduced
// loss, d(sum of the per-sample losses)/dx for None.
at::Tensor torch_grad(const at::Tensor& loss, const at::Tensor& x) {
  (loss.dim() == 0 ? loss : loss.sum()).backward();
  return x.grad().defined() ? x.grad() : at::zeros_like(x);
}

const std::vector<Reduction> kReductions = {Reduction::Mean, Reduction::Sum, Reduction::None};

// Targets in [0, c), about a fifth of them replaced by ignore_index when `ignore`.
Tensor class_targets(std::int64_t n, std::int64_t c, bool ignore, std::int64_t ignore_index,
                     Generator& gen) {
  Tensor t = layers_test::randint({n}, gen, std::max<std::int64_t>(c, 1));
  if (ignore) {
    for (std::int64_t i = 0; i < n; ++i) {
      if (gen.uniform() < 0.2) t.data<std::int64_t>()[i] = ignore_index;
    }
  }
  return t;
}

struct ClassCase {
  std::int64_t n, c;
  double scale;  // logits ~ N(0, scale^2)
};

const std::vector<ClassCase> kClassCases = {
    {0, 3, 1},   {1, 1, 1},     {1, 5, 1},   {2, 2, 3},     {7, 5, 1},
    {33, 17, 4}, {100, 10, 10}, {300, 3, 1}, {64, 50, 100},
};

TEST(LossesVsTorch, NllLossIsBitwise) {
  Generator gen(101);
  int cases = 0;
  for (const ClassCase& cc : kClassCases) {
    for (Reduction r : kReductions) {
      for (int variant = 0; variant < 4; ++variant) {
        const bool weighted = (variant & 1) != 0;
        const bool ignore = (variant & 2) != 0;
        const std::int64_t ignore_index = ignore ? 1 : -100;
        SCOPED_TRACE(testing::Message()
                     << "n=" << cc.n << " c=" << cc.c << " reduction=" << reduction_name(r)
                     << " weighted=" << weighted << " ignore=" << ignore);
        Tensor x = randn({cc.n, cc.c}, gen, cc.scale);
        Tensor t = class_targets(cc.n, cc.c, ignore, ignore_index, gen);
        Tensor w = weighted ? layers_test::uniform({cc.c}, gen, 0.1, 3.0) : Tensor();
        LossOutput ours = functional::nll_loss(
            x, t, NLLLossOptions().reduction(r).weight(w).ignore_index(ignore_index));
        at::Tensor tx = leaf(x);
        at::Tensor loss =
            at::nll_loss(tx, to_torch(t), maybe_torch(w), torch_reduction(r), ignore_index);
        EXPECT_TRUE(bitwise_equal(ours.loss, from_torch(loss.detach())));
        EXPECT_TRUE(bitwise_equal(ours.grad_input, from_torch(torch_grad(loss, tx))));
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, static_cast<int>(kClassCases.size()) * 3 * 4);
}

TEST(LossesVsTorch, CrossEntropyMatches) {
  Generator gen(102);
  for (const ClassCase& cc : kClassCases) {
    for (Reduction r : kReductions) {
      for (int variant = 0; variant < 8; ++variant) {
        const bool weighted = (variant & 1) != 0;
        const bool ignore = (variant & 2) != 0;
        const double smoothing = (variant & 4) != 0 ? 0.15 : 0.0;
        const std::int64_t ignore_index = ignore ? 0 : -100;
        SCOPED_TRACE(testing::Message()
                     << "n=" << cc.n << " c=" << cc.c << " scale=" << cc.scale
                     << " reduction=" << reduction_name(r) << " weighted=" << weighted
                     << " ignore=" << ignore << " smoothing=" << smoothing);
        Tensor x = randn({cc.n, cc.c}, gen, cc.scale);
        Tensor t = class_targets(cc.n, cc.c, ignore, ignore_index, gen);
        Tensor w = weighted ? layers_test::uniform({cc.c}, gen, 0.1, 3.0) : Tensor();
        LossOutput ours = functional::cross_entropy(x, t,
                                                    CrossEntropyLossOptions()
                                                        .reduction(r)
                                                        .weight(w)
                                                        .ignore_index(ignore_index)
                                                        .label_smoothing(smoothing));
        at::Tensor tx = leaf(x);
        at::Tensor loss = at::cross_entropy_loss(tx, to_torch(t), maybe_torch(w),
                                                 torch_reduction(r), ignore_index, smoothing);
        const Tensor ref_loss = from_torch(loss.detach());
        const Tensor ref_grad = from_torch(torch_grad(loss, tx));
        EXPECT_TRUE(close(ours.loss, ref_loss, kLossRtol, log_prob_scale(ref_loss)));
        EXPECT_TRUE(close(ours.grad_input, ref_grad, kLossRtol, max_abs(ref_grad)));
      }
    }
  }
}

TEST(LossesVsTorch, CrossEntropyAtExtremeLogits) {
  // Rows of +-100 (and +-1e4) logits: right, wrong and tied predictions; no overflow anywhere.
  Tensor x = Tensor::from_floats(
      {100, -100, 0, -100, 100, 0, 100, 100, -100, 1e4f, -1e4f, 0, -100, -100, -100, 0, 0, 0},
      {6, 3});
  for (const auto& targets :
       std::vector<std::vector<std::int64_t>>{{0, 1, 0, 0, 2, 1}, {1, 0, 2, 1, 0, 2}}) {
    for (Reduction r : kReductions) {
      for (double smoothing : {0.0, 0.1}) {
        SCOPED_TRACE(testing::Message() << "targets[0]=" << targets[0] << " reduction="
                                        << reduction_name(r) << " smoothing=" << smoothing);
        Tensor t = Tensor::from_vector(targets);
        LossOutput ours = functional::cross_entropy(
            x, t, CrossEntropyLossOptions().reduction(r).label_smoothing(smoothing));
        at::Tensor tx = leaf(x);
        at::Tensor loss = at::cross_entropy_loss(tx, to_torch(t), c10::nullopt, torch_reduction(r),
                                                 -100, smoothing);
        const Tensor ref_loss = from_torch(loss.detach());
        const Tensor ref_grad = from_torch(torch_grad(loss, tx));
        EXPECT_TRUE(close(ours.loss, ref_loss, kLossRtol, log_prob_scale(ref_loss)));
        EXPECT_TRUE(close(ours.grad_input, ref_grad, kLossRtol, max_abs(ref_grad)));
        EXPECT_LT(max_abs(ours.grad_input), 1.0 + 1e-6);
      }
    }
  }
}

TEST(LossesVsTorch, UnbatchedInputs) {
  Generator gen(103);
  Tensor x = randn({6}, gen, 2.0);
  for (Reduction r : kReductions) {
    for (std::int64_t target : {std::int64_t{4}, std::int64_t{-100}}) {
      SCOPED_TRACE(testing::Message() << reduction_name(r) << " target " << target);
      Tensor t = Tensor::scalar(target);
      LossOutput ce = functional::cross_entropy(x, t, CrossEntropyLossOptions().reduction(r));
      at::Tensor tx = leaf(x);
      at::Tensor loss = at::cross_entropy_loss(tx, to_torch(t), c10::nullopt, torch_reduction(r));
      const Tensor ref_loss = from_torch(loss.detach());
      EXPECT_EQ(ce.loss.shape(), ref_loss.shape());
      EXPECT_TRUE(close(ce.loss, ref_loss, kLossRtol, log_prob_scale(ref_loss)));
      EXPECT_TRUE(close(ce.grad_input, from_torch(torch_grad(loss, tx)), kLossRtol, 1.0));
      LossOutput nll = functional::nll_loss(x, t, NLLLossOptions().reduction(r));
      at::Tensor tx2 = leaf(x);
      at::Tensor loss2 = at::nll_loss(tx2, to_torch(t), c10::nullopt, torch_reduction(r));
      EXPECT_TRUE(bitwise_equal(nll.loss, from_torch(loss2.detach())));
      EXPECT_TRUE(bitwise_equal(nll.grad_input, from_torch(torch_grad(loss2, tx2))));
    }
  }
}

TEST(LossesVsTorch, MseLoss) {
  Generator gen(104);
  for (const Shape& shape : std::vector<Shape>{{0}, {1}, {7}, {4, 5}, {3, 2, 33}, {1000}}) {
    for (Reduction r : kReductions) {
      SCOPED_TRACE(testing::Message() << shape_string(shape) << " " << reduction_name(r));
      Tensor x = randn(shape, gen, 3.0);
      Tensor y = randn(shape, gen);
      LossOutput ours = functional::mse_loss(x, y, r);
      at::Tensor tx = leaf(x);
      at::Tensor loss = at::mse_loss(tx, to_torch(y), torch_reduction(r));
      const Tensor ref_loss = from_torch(loss.detach());
      if (r == Reduction::None) {
        EXPECT_TRUE(bitwise_equal(ours.loss, ref_loss));
      } else {
        EXPECT_TRUE(close(ours.loss, ref_loss, kLossRtol, 0.0));
      }
      EXPECT_TRUE(bitwise_equal(ours.grad_input, from_torch(torch_grad(loss, tx))));
    }
  }
}

TEST(LossesVsTorch, BceWithLogits) {
  Generator gen(105);
  for (const Shape& shape : std::vector<Shape>{{0, 3}, {1, 1}, {5, 4}, {16, 7}, {2, 3, 6}}) {
    const std::int64_t classes = shape.back();
    for (Reduction r : kReductions) {
      for (int variant = 0; variant < 8; ++variant) {
        const bool per_element_weight = (variant & 1) != 0;
        const bool class_weight = (variant & 2) != 0;
        const bool pos_weight = (variant & 4) != 0;
        SCOPED_TRACE(testing::Message()
                     << shape_string(shape) << " " << reduction_name(r) << " variant " << variant);
        Tensor x = randn(shape, gen, 4.0);
        // Put logits of +-100 among the others.
        for (std::int64_t i = 0; i < x.numel(); i += 5) {
          x.data<float>()[i] = (i / 5) % 2 == 0 ? 100.0f : -100.0f;
        }
        Tensor t = layers_test::uniform(shape, gen, 0.0, 1.0);
        for (std::int64_t i = 0; i < t.numel(); i += 3)
          t.data<float>()[i] = (i / 3) % 2 == 0 ? 0.0f : 1.0f;
        Tensor w;
        if (per_element_weight) w = layers_test::uniform(shape, gen, 0.2, 2.0);
        if (class_weight) w = layers_test::uniform({classes}, gen, 0.2, 2.0);
        Tensor pw = pos_weight ? layers_test::uniform({classes}, gen, 0.2, 5.0) : Tensor();
        LossOutput ours = functional::binary_cross_entropy_with_logits(
            x, t, BCEWithLogitsLossOptions().weight(w).pos_weight(pw).reduction(r));
        at::Tensor tx = leaf(x);
        at::Tensor loss = at::binary_cross_entropy_with_logits(tx, to_torch(t), maybe_torch(w),
                                                               maybe_torch(pw), torch_reduction(r));
        const Tensor ref_loss = from_torch(loss.detach());
        const Tensor ref_grad = from_torch(torch_grad(loss, tx));
        EXPECT_TRUE(close(ours.loss, ref_loss, kLossRtol, max_abs(ref_loss)));
        EXPECT_TRUE(close(ours.grad_input, ref_grad, kLossRtol, max_abs(ref_grad)));
      }
    }
  }
}

TEST(LossesVsTorch, BothRejectOutOfRangeTargets) {
  Tensor x = Tensor::zeros({2, 3});
  for (std::int64_t bad : {std::int64_t{3}, std::int64_t{-1}}) {
    Tensor t = Tensor::from_vector<std::int64_t>({0, bad});
    EXPECT_THROW(functional::cross_entropy(x, t), IndexError);
    EXPECT_THROW(functional::nll_loss(x, t, NLLLossOptions().reduction(Reduction::None)),
                 IndexError);
    EXPECT_THROW(at::cross_entropy_loss(to_torch(x), to_torch(t)), c10::Error);
  }
}

}  // namespace
}  // namespace embedkit::nn
