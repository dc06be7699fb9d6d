// Copies between embedkit::Tensor and at::Tensor for the differential tests (ATen only, so the
// translation units that need no torch::nn compile quickly).
#pragma once

#include <ATen/ATen.h>

#include <cstring>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::layers_test {

inline at::ScalarType torch_type(DType t) {
  switch (t) {
    case DType::Float32:
      return at::kFloat;
    case DType::Float16:
      return at::kHalf;
    case DType::BFloat16:
      return at::kBFloat16;
    case DType::Int32:
      return at::kInt;
    case DType::Int64:
      return at::kLong;
  }
  throw TypeError("no torch type");
}

// An independent copy (never a view of embedkit's memory: autograd may keep it).
inline at::Tensor to_torch(const Tensor& t) {
  at::Tensor out =
      at::empty(at::IntArrayRef(t.shape()), at::TensorOptions().dtype(torch_type(t.dtype())));
  if (t.nbytes() > 0) std::memcpy(out.data_ptr(), t.raw_data(), t.nbytes());
  return out;
}

inline Tensor from_torch(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  DType dtype = DType::Float32;
  switch (c.scalar_type()) {
    case at::kFloat:
      dtype = DType::Float32;
      break;
    case at::kLong:
      dtype = DType::Int64;
      break;
    case at::kInt:
      dtype = DType::Int32;
      break;
    default:
      throw TypeError("from_torch: unsupported type");
  }
  Tensor out = Tensor::empty(Shape(c.sizes().begin(), c.sizes().end()), dtype);
  if (out.nbytes() > 0) std::memcpy(out.raw_data(), c.data_ptr(), out.nbytes());
  return out;
}

// An optional argument: undefined becomes "not given".
inline c10::optional<at::Tensor> maybe_torch(const Tensor& t) {
  return t.defined() ? c10::optional<at::Tensor>(to_torch(t)) : c10::nullopt;
}

// A float32 leaf tensor that records its gradient.
inline at::Tensor leaf(const Tensor& t) {
  return to_torch(t).requires_grad_(true);
}

}  // namespace embedkit::layers_test
