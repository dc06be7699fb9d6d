// nn.MSELoss: squared error between an input and a target of the same shape.
//
//   loss_i = (input_i - target_i)^2;  Mean: sum / numel (NaN when empty), Sum, None: per element
//   grad_i = s * (input_i - target_i) with s = float32(2 / numel) for Mean, 2 otherwise
//
// The per-element values and the gradient are PyTorch 1.13's float32 expressions, bit for bit;
// reduced values agree to float32 rounding (loss.hpp). PyTorch broadcasts a target of another
// shape with a warning; embedkit raises ValueError. TypeError for non-float32 tensors.
#pragma once

#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/loss.hpp"

namespace embedkit::nn {

struct MSELossOptions {
  MSELossOptions() = default;
  /* implicit */ MSELossOptions(Reduction reduction) : reduction_(reduction) {}  // NOLINT
  EMBEDKIT_ARG(Reduction, reduction) = Reduction::Mean;
};

namespace functional {

LossOutput mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options = {});

}  // namespace functional

class MSELoss {
 public:
  explicit MSELoss(const MSELossOptions& options = {}) : options_(options) {}
  LossOutput forward(const Tensor& input, const Tensor& target) const {
    return functional::mse_loss(input, target, options_);
  }
  const MSELossOptions& options() const { return options_; }
  std::string repr() const { return "MSELoss()"; }

 private:
  MSELossOptions options_;
};

}  // namespace embedkit::nn
