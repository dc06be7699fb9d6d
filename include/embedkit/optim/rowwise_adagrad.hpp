// RowWiseAdagrad (beyond torch.optim): FBGEMM's EXACT_ROWWISE_ADAGRAD, the optimizer TorchRec
// trains embedding tables with. One accumulator per row instead of one per element (a D-fold
// smaller state):
//   s_r += mean_j(g_rj^2);  w_r -= lr * g_r / (sqrt(s_r) + eps)
//
//   optim::RowWiseAdagrad opt(params, optim::RowWiseAdagradOptions(0.01).weight_decay(1e-5));
//
// Operation order and float32 rounding follow FBGEMM's CPU kernel (split_weight_update_cpu):
// the squares are summed left to right, the multiplier lr / (sqrt(s_r) + eps) is computed once
// per row, and w_r = correction * w_r - g_r * multiplier, where correction is 1, or
// 1 - multiplier * weight_decay (L2: the decay term also enters the squares), or
// 1 - lr * weight_decay (Decoupled).
//
// Row-sparse gradients are coalesced and update only their rows, as FBGEMM (whose gradients are
// always sparse) does. A dense gradient touches every row: rows whose gradient is zero keep
// their accumulator and, without weight decay, their values; with weight decay they decay.
// Parameters must be 2-D.
#pragma once

#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

// FBGEMM's WeightDecayMode::L2 and ::DECOUPLED (weight_decay 0 is its NONE).
enum class WeightDecayMode { L2, Decoupled };

struct RowWiseAdagradOptions {
  explicit RowWiseAdagradOptions(double lr = 1e-2) : lr_(lr) {}

  EMBEDKIT_ARG(double, lr);
  // FBGEMM's default (torch.optim.Adagrad's is 1e-10).
  EMBEDKIT_ARG(double, eps) = 1e-8;
  EMBEDKIT_ARG(double, weight_decay) = 0.0;
  EMBEDKIT_ARG(WeightDecayMode, weight_decay_mode) = WeightDecayMode::L2;
};

class RowWiseAdagrad final : public Optimizer {
 public:
  // ValueError for a negative (or NaN) lr, eps or weight_decay, or a parameter that is not 2-D.
  RowWiseAdagrad(std::vector<Parameter> params, const RowWiseAdagradOptions& options);

  const RowWiseAdagradOptions& options() const { return options_; }

  // "<param>.sum" (float32 [rows]) for every parameter; it exists from construction (zeros).
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  bool supports_sparse() const override { return true; }
  std::string name() const override { return "RowWiseAdagrad"; }
  RowStep begin_row_step(std::size_t index) override;
  std::vector<RowStateTable> row_state_tables(std::size_t index) const override;
  // Parameter `index`'s accumulators, one float per row ("<param>.sum"): the fused step
  // (fused_backward_step) updates them in place, as begin_row_step's updates do.
  float* accumulators(std::size_t index) { return sums_[index].data<float>(); }

 protected:
  void update_dense(std::size_t index, const Tensor& grad) override;
  void update_sparse(std::size_t index, const RowSparseTensor& grad) override;

 private:
  void update_row(std::size_t index, std::int64_t row, const float* g);

  RowWiseAdagradOptions options_;
  std::vector<Tensor> sums_;
};

}  // namespace embedkit::optim
