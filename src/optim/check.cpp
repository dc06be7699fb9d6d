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

}  // namespace embedkit::optim::detail
