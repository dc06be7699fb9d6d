// torch.optim.SGD (1.13): stochastic gradient descent with optional momentum, Nesterov momentum,
// L2 weight decay and maximize, rounding exactly as PyTorch does.
//
//   optim::SGD opt(params, optim::SGDOptions(0.1).momentum(0.9));
//   opt.step({grad});
//
// Row-sparse gradients are accepted unless weight_decay > 0 (PyTorch fails there too). Without
// momentum a row-sparse gradient is applied entry by entry in the order given, as PyTorch does,
// so results are bitwise PyTorch's. With momentum PyTorch keeps a sparse buffer that grows by
// the gradient's entries every step; embedkit keeps a dense buffer instead (same values up to
// rounding, constant memory): every row whose buffer is non-zero moves every step in both.
#pragma once

#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

struct SGDOptions {
  // lr has no default, as in PyTorch.
  explicit SGDOptions(double lr) : lr_(lr) {}

  EMBEDKIT_ARG(double, lr);
  EMBEDKIT_ARG(double, momentum) = 0.0;
  EMBEDKIT_ARG(double, dampening) = 0.0;
  EMBEDKIT_ARG(double, weight_decay) = 0.0;
  EMBEDKIT_ARG(bool, nesterov) = false;
  EMBEDKIT_ARG(bool, maximize) = false;
};

class SGD final : public Optimizer {
 public:
  // ValueError for lr < 0, momentum < 0, weight_decay < 0 (NaN included), or nesterov without
  // momentum > 0 and dampening == 0.
  SGD(std::vector<Parameter> params, const SGDOptions& options);

  const SGDOptions& options() const { return options_; }

  // "<param>.momentum_buffer" for each parameter stepped at least once with momentum != 0.
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;

  bool supports_sparse() const override { return options_.weight_decay() == 0.0; }
  std::string name() const override { return "SGD"; }
  RowStep begin_row_step(std::size_t index) override;

 protected:
  std::string unsupported_grad_message(bool sparse) const override;
  void update_dense(std::size_t index, const Tensor& grad) override;
  void update_sparse(std::size_t index, const RowSparseTensor& grad) override;

 private:
  // The momentum step on a dense gradient: buffer update, then the parameter update.
  void momentum_step(std::size_t index, const Tensor& grad);

  SGDOptions options_;
  // Undefined until the parameter's first step with momentum (PyTorch's first step copies the
  // gradient instead of decaying a zero buffer, which differs when dampening != 0).
  std::vector<Tensor> momentum_buffers_;
};

}  // namespace embedkit::optim
