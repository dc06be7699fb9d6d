// torch.optim.SparseAdam (1.13): a lazy Adam for row-sparse gradients, rounding as PyTorch does.
//
//   optim::SparseAdam opt(params, optim::SparseAdamOptions(1e-3));
//
// Only the gradient's rows (coalesced: repeats summed) change, moments included; other rows
// keep their values and moments. Its formula differs from Adam's in two ways PyTorch 1.13 has:
//  - the bias correction uses the parameter's global step count (every step() that gives the
//    parameter a gradient), not how often a row was seen, so a rarely seen row gets the small
//    correction of a late step (LazyAdam counts per row);
//  - eps is added to sqrt(v) before the bias correction:
//      w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
//    which differs from Adam's m / (sqrt(v) / sqrt(1 - b2^t) + eps) even when every row is seen.
// Dense gradients are refused, as in PyTorch.
#pragma once

#include <cstdint>
#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

struct SparseAdamOptions {
  explicit SparseAdamOptions(double lr = 1e-3) : lr_(lr) {}

  EMBEDKIT_ARG(double, lr);
  EMBEDKIT_ARG(Betas, betas) = std::make_tuple(0.9, 0.999);
  EMBEDKIT_ARG(double, eps) = 1e-8;
  EMBEDKIT_ARG(bool, maximize) = false;
};

class SparseAdam final : public Optimizer {
 public:
  // ValueError for lr <= 0 or eps <= 0 (strict, as in PyTorch) or a beta outside [0, 1).
  SparseAdam(std::vector<Parameter> params, const SparseAdamOptions& options);

  const SparseAdamOptions& options() const { return options_; }

  // "<param>.step" (int64 0-dim: PyTorch keeps a Python int), "<param>.exp_avg" and
  // "<param>.exp_avg_sq", for each parameter stepped at least once.
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  bool supports_sparse() const override { return true; }
  bool supports_dense() const override { return false; }
  std::string name() const override { return "SparseAdam"; }
  RowStep begin_row_step(std::size_t index) override;
  std::vector<RowStateTable> row_state_tables(std::size_t index) const override;

 protected:
  std::string unsupported_grad_message(bool sparse) const override;
  void update_dense(std::size_t index, const Tensor& grad) override;
  void update_sparse(std::size_t index, const RowSparseTensor& grad) override;

 private:
  struct State {
    std::int64_t step = 0;
    Tensor exp_avg;  // undefined until the first step
    Tensor exp_avg_sq;
  };

  SparseAdamOptions options_;
  std::vector<State> state_;
};

}  // namespace embedkit::optim
