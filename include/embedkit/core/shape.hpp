// A tensor's shape: its extent along each dimension, outermost first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace embedkit {

using Shape = std::vector<std::int64_t>;

// "[2, 3]".
std::string shape_string(const Shape& shape);

// Number of elements of a shape; throws ValueError on a negative extent or overflow.
std::int64_t shape_numel(const Shape& shape);

}  // namespace embedkit
