// torch.optim.AdamW (1.13): Adam with decoupled weight decay, w *= 1 - lr * weight_decay before
// the Adam step (default weight_decay 1e-2), rounding as PyTorch does.
//
//   optim::AdamW opt(params, optim::AdamWOptions(1e-3).weight_decay(0.1));
//
// Dense gradients only, as in PyTorch. The padding row is not decayed (PyTorch decays it).
#pragma once

#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

struct AdamWOptions {
  explicit AdamWOptions(double lr = 1e-3) : lr_(lr) {}

  EMBEDKIT_ARG(double, lr);
  EMBEDKIT_ARG(Betas, betas) = std::make_tuple(0.9, 0.999);
  EMBEDKIT_ARG(double, eps) = 1e-8;
  EMBEDKIT_ARG(double, weight_decay) = 1e-2;
  EMBEDKIT_ARG(bool, amsgrad) = false;
  EMBEDKIT_ARG(bool, maximize) = false;
};

class AdamW final : public Optimizer {
 public:
  // ValueError for lr < 0, eps < 0, weight_decay < 0 (NaN included) or a beta outside [0, 1).
  AdamW(std::vector<Parameter> params, const AdamWOptions& options);

  const AdamWOptions& options() const { return options_; }

  // The same entries as Adam's.
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  bool supports_sparse() const override { return false; }
  std::string name() const override { return "AdamW"; }

 protected:
  void update_dense(std::size_t index, const Tensor& grad) override;
  void update_sparse(std::size_t index, const RowSparseTensor& grad) override;

 private:
  AdamWOptions options_;
  std::vector<AdamParamState> state_;
};

}  // namespace embedkit::optim
