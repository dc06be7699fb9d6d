// Checks of a caller-given output tensor (the *_into forms, which write into the caller's
// buffer instead of allocating one).
#pragma once

#include <initializer_list>
#include <string>

#include "embedkit/core/tensor.hpp"

namespace embedkit::nn::detail {

// `out` must be defined, of `dtype` and `shape`, and must not overlap any of `inputs` (a
// lookup writing into its own table or ids would read what it has just written).
void check_output(const Tensor& out, const Shape& shape, DType dtype,
                  std::initializer_list<const Tensor*> inputs, const std::string& who);

}  // namespace embedkit::nn::detail
