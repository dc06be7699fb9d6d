// nn.CrossEntropyLoss over class-index targets: log_softmax(input) followed by NLLLoss, with
// optional label smoothing, in one call that returns the loss and d(loss)/d(logits).
//
//   input  [N, C] float32 logits (or [C] for one unbatched sample)
//   target [N] int64 (or int32) class indices in [0, C), or ignore_index (or 0-dim for [C])
//   Without smoothing: nll_loss(log_softmax(input), target) with the same weight, ignore_index
//   and reduction (nll_loss.hpp).
//   With label_smoothing e in (0, 1]: (1 - e) * that + (e / C) * smooth, where
//   smooth_n = -sum_c weight[c] * log_softmax(input)[n, c] (0 for an ignored sample), reduced
//   like the NLL part (Mean divides by the same sum of target weights).
//
// The log-softmax is the stable one of activation.hpp (row maximum subtracted first), so logits
// of +-100 or more give finite losses and gradients. The gradient is PyTorch's autograd chain
// (nll_loss_backward, then log_softmax_backward: g - exp(log_p) * sum(g)) in its float32 order.
// Probability ("soft") targets are not supported.
// Errors as nll_loss.hpp, and ValueError for label_smoothing outside [0, 1].
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/loss.hpp"

namespace embedkit::nn {

struct CrossEntropyLossOptions {
  // Per-class rescaling weight, float32 [C]; undefined = all ones.
  EMBEDKIT_ARG(Tensor, weight);
  EMBEDKIT_ARG(std::int64_t, ignore_index) = -100;
  EMBEDKIT_ARG(Reduction, reduction) = Reduction::Mean;
  // In [0, 1]; 0 is plain cross-entropy.
  EMBEDKIT_ARG(double, label_smoothing) = 0.0;
};

namespace functional {

LossOutput cross_entropy(const Tensor& input, const Tensor& target,
                         const CrossEntropyLossOptions& options = {});

}  // namespace functional

class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(const CrossEntropyLossOptions& options = {}) : options_(options) {}
  LossOutput forward(const Tensor& input, const Tensor& target) const {
    return functional::cross_entropy(input, target, options_);
  }
  const CrossEntropyLossOptions& options() const { return options_; }
  std::string repr() const { return "CrossEntropyLoss()"; }

 private:
  CrossEntropyLossOptions options_;
};

}  // namespace embedkit::nn
