#include "nn/output_check.hpp"

#include <cstdint>

#include "embedkit/core/error.hpp"

namespace embedkit::nn::detail {

namespace {

bool overlap(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.nbytes() == 0 || b.nbytes() == 0) return false;
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.raw_data());
  const auto b0 = reinterpret_cast<std::uintptr_t>(b.raw_data());
  return a0 < b0 + b.nbytes() && b0 < a0 + a.nbytes();
}

}  // namespace

void check_output(const Tensor& out, const Shape& shape, DType dtype,
                  std::initializer_list<const Tensor*> inputs, const std::string& who) {
  if (!out.defined()) throw ValueError(who + ": the output tensor is undefined");
  if (out.dtype() != dtype) {
    throw TypeError(who + ": the output tensor is " + std::string(dtype_name(out.dtype())) +
                    ", expected " + std::string(dtype_name(dtype)));
  }
  if (out.shape() != shape) {
    throw ValueError(who + ": the output tensor has shape " + shape_string(out.shape()) +
                     ", expected " + shape_string(shape));
  }
  for (const Tensor* in : inputs) {
    if (in != nullptr && overlap(out, *in)) {
      throw ValueError(who + ": the output tensor overlaps an input");
    }
  }
}

}  // namespace embedkit::nn::detail
