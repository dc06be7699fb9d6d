// Formatting of module reprs the way PyTorch prints them: floats as Python's repr() prints them
// (python_float_repr, core/float_text.hpp), booleans as True/False.
#pragma once

#include <string>

#include "embedkit/core/float_text.hpp"

namespace embedkit::nn::detail {

inline std::string py_bool(bool b) {
  return b ? "True" : "False";
}

}  // namespace embedkit::nn::detail
