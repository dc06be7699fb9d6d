// LazyAdam (beyond torch.optim; after TensorFlow Addons' LazyAdam): Adam for embedding tables
// that updates only the rows a gradient touches, each with its own step count.
//
//   optim::LazyAdam opt(params, optim::LazyAdamOptions(1e-3));
//
// For each touched row r (the rows of a coalesced row-sparse gradient; every row for a dense
// gradient), with t_r = how many steps have touched row r, counting this one:
//   m_r = b1*m_r + (1-b1)*g_r;  v_r = b2*v_r + (1-b2)*g_r*g_r
//   w_r -= (lr / (1 - b1^t_r)) * m_r / (sqrt(v_r) / sqrt(1 - b2^t_r) + eps)
// i.e. torch.optim.Adam's formula and rounding, row by row; untouched rows keep their values,
// moments and counts. Compared with SparseAdam:
//  - a row's bias correction follows its own count t_r, so a row first seen at step T moves
//    by about lr, as in Adam's first step; SparseAdam corrects with the parameter's global step
//    T instead, and that row's first move is about lr * (1-b1)/sqrt(1-b2) * sqrt(1-b2^T)
//    (2.5 * lr with the default betas at T = 1000);
//  - eps sits where Adam puts it (after the bias correction), so with a dense gradient, or a
//    sparse one touching every row each step, LazyAdam equals Adam bit for bit.
// Parameters must be 2-D (one count per row).
#pragma once

#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

struct LazyAdamOptions {
  explicit LazyAdamOptions(double lr = 1e-3) : lr_(lr) {}

  EMBEDKIT_ARG(double, lr);
  EMBEDKIT_ARG(Betas, betas) = std::make_tuple(0.9, 0.999);
  EMBEDKIT_ARG(double, eps) = 1e-8;
  EMBEDKIT_ARG(bool, maximize) = false;
};

class LazyAdam final : public Optimizer {
 public:
  // ValueError for lr < 0, eps < 0 (NaN included), a beta outside [0, 1), or a parameter that
  // is not 2-D.
  LazyAdam(std::vector<Parameter> params, const LazyAdamOptions& options);

  const LazyAdamOptions& options() const { return options_; }

  // "<param>.step" (int64 [rows]: each row's count), "<param>.exp_avg" and
  // "<param>.exp_avg_sq", for each parameter stepped at least once.
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  bool supports_sparse() const override { return true; }
  std::string name() const override { return "LazyAdam"; }
  RowStep begin_row_step(std::size_t index) override;
  std::vector<RowStateTable> row_state_tables(std::size_t index) const override;

 protected:
  void update_dense(std::size_t index, const Tensor& grad) override;
  void update_sparse(std::size_t index, const RowSparseTensor& grad) override;

 private:
  struct State {
    Tensor step;  // int64 [rows]; all undefined until the first step
    Tensor exp_avg;
    Tensor exp_avg_sq;
  };
  // The Adam update of one row with gradient g (length dim), counting the row's step.
  void update_row(std::size_t index, std::int64_t row, const float* g);

  LazyAdamOptions options_;
  std::vector<State> state_;
};

}  // namespace embedkit::optim
