// Reference index checks: the plain loops that say where a lookup's input is first invalid.
// kernels/cpu/index_checks.hpp is their fast twin (same answers, every input).
#pragma once

#include <cstdint>

namespace embedkit::kernels::ref {

// The first i with ids[i] outside [0, num_rows), or -1.
template <class I>
std::int64_t first_id_out_of_range(const I* ids, std::int64_t n, std::int64_t num_rows) {
  for (std::int64_t i = 0; i < n; ++i) {
    const auto id = static_cast<std::int64_t>(ids[i]);
    if (id < 0 || id >= num_rows) return i;
  }
  return -1;
}

// The first i >= 1 with bounds[i] < bounds[i - 1] or bounds[i] > limit, or -1 (bounds[0] is
// the caller's to check).
inline std::int64_t first_bad_bound(const std::int64_t* bounds, std::int64_t count,
                                    std::int64_t limit) {
  for (std::int64_t i = 1; i < count; ++i) {
    if (bounds[i] < bounds[i - 1] || bounds[i] > limit) return i;
  }
  return -1;
}

}  // namespace embedkit::kernels::ref
