// Hyper-parameter checks shared by the optimizers' constructors, with torch.optim's messages.
#pragma once

#include <string>

namespace embedkit::optim::detail {

// Throws ValueError("Invalid <what>: <value>") unless value >= 0. NaN is refused too (PyTorch's
// "not 0.0 <= x" refuses it in most optimizers, SGD's "x < 0.0" does not; embedkit always does).
void check_non_negative(double value, const std::string& what);
// The same with value > 0 (SparseAdam's lr and eps).
void check_positive(double value, const std::string& what);
// betas[index] in [0, 1): "Invalid beta parameter at index <i>: <value>".
void check_beta(double value, int index);

// A fused backward + step updates only the rows the batch touched, so it refuses the options
// that move other rows too: SGD's momentum and weight_decay, Adagrad's weight_decay. Shared by
// the CPU optimizers' begin_row_step and the CUDA backend's DeviceOptimizer.
void check_sgd_row_wise(double momentum, double weight_decay);
void check_adagrad_row_wise(double weight_decay);

}  // namespace embedkit::optim::detail
