#include "optim/check.hpp"

#include "embedkit/core/error.hpp"
#include "embedkit/core/float_text.hpp"

namespace embedkit::optim::detail {

void check_non_negative(double value, const std::string& what) {
  if (!(value >= 0.0)) throw ValueError("Invalid " + what + ": " + python_float_repr(value));
}

void check_positive(double value, const std::string& what) {
  if (!(value > 0.0)) throw ValueError("Invalid " + what + ": " + python_float_repr(value));
}

void check_beta(double value, int index) {
  if (!(value >= 0.0 && value < 1.0)) {
    throw ValueError("Invalid beta parameter at index " + std::to_string(index) + ": " +
                     python_float_repr(value));
  }
}

void check_sgd_row_wise(double momentum, double weight_decay) {
  if (momentum != 0.0 || weight_decay != 0.0) {
    throw ValueError(
        "SGD with momentum or weight_decay has no row-wise update (it moves rows the batch did "
        "not touch), so it cannot be fused into the backward");
  }
}

void check_adagrad_row_wise(double weight_decay) {
  if (weight_decay != 0.0) {
    throw ValueError("weight_decay option is not compatible with sparse gradients");
  }
}

}  // namespace embedkit::optim::detail
