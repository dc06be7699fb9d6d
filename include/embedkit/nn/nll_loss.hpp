// nn.NLLLoss: the negative log-likelihood of class targets, given log-probabilities.
//
//   input  [N, C] float32 log-probabilities (or [C] for one unbatched sample)
//   target [N] int64 (or int32) class indices in [0, C), or ignore_index (or 0-dim for [C])
//   loss_n = -weight[target_n] * input[n, target_n]   (0 for an ignored sample)
//   Mean: sum_n loss_n / sum_n weight[target_n] over the samples not ignored (NaN when there is
//   none), Sum: sum_n loss_n, None: [N] (0-dim for an unbatched input).
//
// Bit for bit PyTorch 1.13's: the reduced sum is the same float32 cascade sum (ATen's
// nll_loss_out_frame), and the gradient the same float32 expression.
// Errors, raised before anything is computed: TypeError for a non-float32 input or weight or a
// non-integer target, ValueError for shapes, IndexError naming the first target outside [0, C)
// that is not ignore_index.
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/loss.hpp"

namespace embedkit::nn {

struct NLLLossOptions {
  // Per-class rescaling weight, float32 [C]; undefined = all ones.
  EMBEDKIT_ARG(Tensor, weight);
  // Samples with this target contribute nothing, to the loss or to the mean's denominator.
  EMBEDKIT_ARG(std::int64_t, ignore_index) = -100;
  EMBEDKIT_ARG(Reduction, reduction) = Reduction::Mean;
};

namespace functional {

LossOutput nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});

}  // namespace functional

class NLLLoss {
 public:
  explicit NLLLoss(const NLLLossOptions& options = {}) : options_(options) {}
  LossOutput forward(const Tensor& input, const Tensor& target) const {
    return functional::nll_loss(input, target, options_);
  }
  const NLLLossOptions& options() const { return options_; }
  std::string repr() const { return "NLLLoss()"; }

 private:
  NLLLossOptions options_;
};

}  // namespace embedkit::nn
