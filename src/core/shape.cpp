#include "embedkit/core/shape.hpp"

#include <limits>

#include "embedkit/core/error.hpp"

namespace embedkit {

std::string shape_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) throw ValueError("negative dimension in shape " + shape_string(shape));
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d) {
      throw ValueError("shape " + shape_string(shape) + " has too many elements");
    }
    n *= d;
  }
  return n;
}

}  // namespace embedkit
