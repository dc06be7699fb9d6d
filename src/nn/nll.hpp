// The NLL core shared by NLLLoss and CrossEntropyLoss: validation, PyTorch's float32 cascade
// sum for the reduced loss, and the gradient with respect to the log-probabilities.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/loss.hpp"

namespace embedkit::nn::detail {

// A validated class-target problem: `input` is [n, c] (an unbatched [c] input is n = 1).
struct ClassTargets {
  std::int64_t n = 0;
  std::int64_t c = 0;
  bool batched = true;
  std::vector<std::int64_t> target;  // n values, each ignore_index or in [0, c)
  const float* weight = nullptr;     // [c], or null for all ones
  std::int64_t ignore_index = -100;
  bool ignored(std::int64_t i) const { return target[static_cast<std::size_t>(i)] == ignore_index; }
  // Shape of a None-reduced loss: [n], or 0-dim for an unbatched input.
  Shape none_shape() const { return batched ? Shape{n} : Shape{}; }
};

// Checks input, target and weight (TypeError / ValueError / IndexError, see nll_loss.hpp).
ClassTargets check_class_targets(const std::string& who, const Tensor& input, const Tensor& target,
                                 const Tensor& weight, std::int64_t ignore_index);

struct NllValue {
  Tensor loss;         // 0-dim (Mean, Sum, or unbatched None) or [n]
  float total_weight;  // the Mean's denominator
};

// PyTorch's nll_loss forward over log-probabilities logp [n, c].
NllValue nll_forward(const ClassTargets& t, const float* logp, Reduction reduction);

// Adds d(grad_output * nll)/d(logp) into grad_logp [n, c]. For None, grad_output multiplies
// every sample's loss.
void nll_backward(const ClassTargets& t, Reduction reduction, float total_weight, float grad_output,
                  float* grad_logp);

}  // namespace embedkit::nn::detail
