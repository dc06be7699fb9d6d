// nn.BCEWithLogitsLoss: binary cross-entropy on logits, the sigmoid folded in so that no
// probability is ever rounded to 0 or 1 first.
//
//   m = max(-x, 0)
//   loss = (1 - t) * x + lw * (m + log(exp(-m) + exp(-x - m)))    lw = 1 + (pos_weight - 1) * t
//   (times weight, when given); grad = (sigmoid(x) * (1 + (pos_weight - 1) * t) - pos_weight *
//   t) * weight, divided by numel for Mean.
//
// The exponentials never overflow (both exponents are <= 0), so logits of +-100 and beyond give
// finite values. This is PyTorch 1.13's formula in its float32 order; like it, a loss below about
// 1e-7 of m + 1 is rounded away (log(1 + tiny) = 0), and the gradient keeps full precision.
//
//   input, target: float32, same shape (ValueError otherwise); targets are usually in [0, 1]
//   weight, pos_weight: optional float32, either input's shape or [input.size(-1)] (one value per
//   class, broadcast over the leading dimensions, as PyTorch broadcasts them)
#pragma once

#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/loss.hpp"

namespace embedkit::nn {

struct BCEWithLogitsLossOptions {
  // Rescales each element's loss.
  EMBEDKIT_ARG(Tensor, weight);
  // Weight of the positive term per class: > 1 raises recall, < 1 precision.
  EMBEDKIT_ARG(Tensor, pos_weight);
  EMBEDKIT_ARG(Reduction, reduction) = Reduction::Mean;
};

namespace functional {

LossOutput binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                            const BCEWithLogitsLossOptions& options = {});

}  // namespace functional

class BCEWithLogitsLoss {
 public:
  explicit BCEWithLogitsLoss(const BCEWithLogitsLossOptions& options = {}) : options_(options) {}
  LossOutput forward(const Tensor& input, const Tensor& target) const {
    return functional::binary_cross_entropy_with_logits(input, target, options_);
  }
  const BCEWithLogitsLossOptions& options() const { return options_; }
  std::string repr() const { return "BCEWithLogitsLoss()"; }

 private:
  BCEWithLogitsLossOptions options_;
};

}  // namespace embedkit::nn
