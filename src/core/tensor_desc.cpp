#include "embedkit/core/tensor_desc.hpp"

#include <string>

#include "embedkit/core/error.hpp"

namespace embedkit {

std::int64_t TensorDesc::size(std::int64_t d) const {
  const std::int64_t n = dim();
  const std::int64_t w = d < 0 ? d + n : d;
  if (w < 0 || w >= n) {
    throw ValueError("dimension " + std::to_string(d) + " out of range for a " + std::to_string(n) +
                     "-D tensor");
  }
  return shape()[static_cast<std::size_t>(w)];
}

std::int64_t TensorDesc::numel() const {
  // The shape belongs to an existing tensor, so the product neither overflows nor goes negative.
  std::int64_t n = 1;
  for (std::int64_t extent : shape()) n *= extent;
  return defined_ ? n : 0;
}

}  // namespace embedkit
