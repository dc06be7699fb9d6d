// torch.optim.Adagrad (1.13): per-element accumulated squared gradients scale the step.
//
//   optim::Adagrad opt(params, optim::AdagradOptions(0.01).lr_decay(1e-4));
//
// Dense updates: sum += g*g, w -= clr * g / (sqrt(sum) + eps), clr = lr / (1 + (step-1)*lr_decay).
// Row-sparse gradients are accepted unless weight_decay > 0 (PyTorch refuses that combination):
// the gradient is coalesced, and only its rows' sums and values change. PyTorch's sparse path
// squares and adds in two roundings where the dense one fuses them, so a row-sparse gradient
// and its dense equivalent can differ in the last bit; embedkit reproduces each path.
#pragma once

#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

struct AdagradOptions {
  explicit AdagradOptions(double lr = 1e-2) : lr_(lr) {}

  EMBEDKIT_ARG(double, lr);
  EMBEDKIT_ARG(double, lr_decay) = 0.0;
  EMBEDKIT_ARG(double, weight_decay) = 0.0;
  EMBEDKIT_ARG(double, initial_accumulator_value) = 0.0;
  EMBEDKIT_ARG(double, eps) = 1e-10;
  EMBEDKIT_ARG(bool, maximize) = false;
};

class Adagrad final : public Optimizer {
 public:
  // ValueError for a negative (or NaN) lr, lr_decay, weight_decay, initial_accumulator_value
  // or eps.
  Adagrad(std::vector<Parameter> params, const AdagradOptions& options);

  const AdagradOptions& options() const { return options_; }

  // "<param>.step" (float32 0-dim, PyTorch's type) and "<param>.sum", for every parameter: as
  // in PyTorch the state exists from construction.
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  bool supports_sparse() const override { return options_.weight_decay() == 0.0; }
  std::string name() const override { return "Adagrad"; }
  RowStep begin_row_step(std::size_t index) override;
  std::vector<RowStateTable> row_state_tables(std::size_t index) const override;
  // For the fused step (fused_backward_step), which applies begin_row_step's row update in its
  // kernel: parameter `index`'s accumulators ("<param>.sum", the parameter's shape), and -clr of
  // the step begin_row_step last counted, as the float its row update uses.
  float* accumulators(std::size_t index) { return sums_[index].data<float>(); }
  float row_step_neg_clr(std::size_t index) const;

 protected:
  std::string unsupported_grad_message(bool sparse) const override;
  void update_dense(std::size_t index, const Tensor& grad) override;
  void update_sparse(std::size_t index, const RowSparseTensor& grad) override;

 private:
  // Counts the step and returns this step's learning rate.
  double next_clr(std::size_t index);
  // The learning rate of the step counted last.
  double clr(std::size_t index) const;

  AdagradOptions options_;
  // float32 like PyTorch's torch.tensor(0.0): it stops counting at 2^24 steps, as PyTorch's does.
  std::vector<float> steps_;
  std::vector<Tensor> sums_;
};

}  // namespace embedkit::optim
