// What an argument check needs to know of a tensor, wherever its elements live: whether it was
// given, its element type and its shape. Tensor::desc() and cuda::DeviceTensor::desc() both give
// one, so a check written once over TensorDesc serves every backend (the embedding checks in
// src/nn/embedding_checks.hpp are; the quantized, memory-mapped and sharded tables will be).
#pragma once

#include <cstdint>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/shape.hpp"

namespace embedkit {

// A view: it borrows the shape of the tensor it describes (no copy on the lookup's hot path), so
// it must not outlive that tensor. Take it in the same expression, as check(t.desc(), ...) does.
class TensorDesc {
 public:
  // An undefined tensor ("not given"): no dimensions.
  TensorDesc() = default;
  TensorDesc(DType dtype, const Shape& shape) : defined_(true), dtype_(dtype), shape_(&shape) {}

  bool defined() const { return defined_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_ != nullptr ? *shape_ : kNoShape; }
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  // The extent of dimension d; negative d counts from the end. ValueError when out of range.
  std::int64_t size(std::int64_t d) const;
  std::int64_t numel() const;

 private:
  static inline const Shape kNoShape{};

  bool defined_ = false;
  DType dtype_ = DType::Float32;
  const Shape* shape_ = nullptr;
};

}  // namespace embedkit
