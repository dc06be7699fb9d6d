#include "optim/check.hpp"

#include <charconv>
#include <cmath>

#include "embedkit/core/error.hpp"

namespace embedkit::optim::detail {

std::string python_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  std::string s(buf, result.ptr);
  // Python always shows a float as a float: "1.0", not "1".
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

void check_non_negative(double value, const std::string& what) {
  if (!(value >= 0.0)) throw ValueError("Invalid " + what + ": " + python_repr(value));
}

void check_positive(double value, const std::string& what) {
  if (!(value > 0.0)) throw ValueError("Invalid " + what + ": " + python_repr(value));
}

void check_beta(double value, int index) {
  if (!(value >= 0.0 && value < 1.0)) {
    throw ValueError("Invalid beta parameter at index " + std::to_string(index) + ": " +
                     python_repr(value));
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
