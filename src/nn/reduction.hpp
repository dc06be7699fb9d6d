// Applies a loss reduction to per-element float32 losses: the sum is taken in double (one
// rounding at the end, independent of the order of the elements' blocks), Mean divides by the
// element count, and the mean of nothing is NaN, as in PyTorch.
#pragma once

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/loss.hpp"

namespace embedkit::nn::detail {

inline Tensor reduce_loss(const Tensor& elementwise, Reduction reduction) {
  if (reduction == Reduction::None) return elementwise;
  const float* v = elementwise.data<float>();
  double sum = 0;
  for (std::int64_t i = 0; i < elementwise.numel(); ++i) sum += v[i];
  if (reduction == Reduction::Mean) sum /= static_cast<double>(elementwise.numel());
  return Tensor::scalar(static_cast<float>(sum));
}

}  // namespace embedkit::nn::detail
