// torch.optim.Adam (1.13), with amsgrad, L2 weight_decay and maximize, rounding as PyTorch does:
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
//   w -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//
//   optim::Adam opt(params, optim::AdamOptions(1e-3).betas({0.9, 0.99}));
//
// Dense gradients only (PyTorch refuses row-sparse ones): for embedding tables see SparseAdam
// and LazyAdam. Every step moves every row, including rows whose gradient is zero, because the
// moments carry earlier gradients (PyTorch issue #18404).
#pragma once

#include <tuple>
#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

// (beta1, beta2): the decay rates of the first and second moment averages.
using Betas = std::tuple<double, double>;

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}

  EMBEDKIT_ARG(double, lr);
  EMBEDKIT_ARG(Betas, betas) = std::make_tuple(0.9, 0.999);
  EMBEDKIT_ARG(double, eps) = 1e-8;
  // L2 penalty added to the gradient (for decoupled weight decay see AdamW).
  EMBEDKIT_ARG(double, weight_decay) = 0.0;
  EMBEDKIT_ARG(bool, amsgrad) = false;
  EMBEDKIT_ARG(bool, maximize) = false;
};

// One parameter's Adam/AdamW state; the tensors are undefined until its first step, as
// torch.optim creates them then.
struct AdamParamState {
  // float32 like PyTorch's torch.tensor(0.0): it stops counting at 2^24 steps, as PyTorch's does.
  float step = 0.0f;
  Tensor exp_avg;
  Tensor exp_avg_sq;
  Tensor max_exp_avg_sq;  // amsgrad only
};

class Adam final : public Optimizer {
 public:
  // ValueError for lr < 0, eps < 0, weight_decay < 0 (NaN included) or a beta outside [0, 1).
  Adam(std::vector<Parameter> params, const AdamOptions& options);

  const AdamOptions& options() const { return options_; }

  // "<param>.step" (float32 0-dim), "<param>.exp_avg", "<param>.exp_avg_sq" and, with amsgrad,
  // "<param>.max_exp_avg_sq", for each parameter stepped at least once.
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  bool supports_sparse() const override { return false; }
  std::string name() const override { return "Adam"; }

 protected:
  std::string unsupported_grad_message(bool sparse) const override;
  void update_dense(std::size_t index, const Tensor& grad) override;
  void update_sparse(std::size_t index, const RowSparseTensor& grad) override;

 private:
  AdamOptions options_;
  std::vector<AdamParamState> state_;
};

}  // namespace embedkit::optim
