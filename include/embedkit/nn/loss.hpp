// What every loss shares: the reduction and the result type.
//
// embedkit has no autograd, so a loss returns its value and its gradient together:
//
//   LossOutput out = CrossEntropyLoss().forward(logits, targets);
//   model.backward(out.grad_input);
//
// grad_input is d(loss)/d(input) for Reduction::Mean and Sum; for Reduction::None, whose loss
// has one value per sample (or element), it is d(sum of those values)/d(input). Each loss value
// depends on its own sample only, so a per-sample weighting of a None loss is the same
// weighting of grad_input's rows (elements).
//
// Semantics are PyTorch 1.13's, option for option (the differential tests against LibTorch are
// the judge): the same formulas in the same float32 order where that is what makes results
// equal, NaN for the mean over an empty batch (or over a batch whose targets are all ignored).
// Sums over many values are taken in double (PyTorch uses float32 pairwise sums), so reduced
// losses agree with PyTorch to float32 rounding, not always bit for bit.
#pragma once

#include <string_view>

#include "embedkit/core/tensor.hpp"

namespace embedkit::nn {

enum class Reduction { None, Mean, Sum };

// "none", "mean", "sum", as PyTorch spells them.
std::string_view reduction_name(Reduction reduction);

struct LossOutput {
  Tensor loss;        // 0-dim for Mean and Sum; per sample (or element) for None
  Tensor grad_input;  // same shape as the input
};

}  // namespace embedkit::nn
