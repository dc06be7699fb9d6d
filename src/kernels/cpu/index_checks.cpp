#include "kernels/cpu/index_checks.hpp"

#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::cpu {

// The checks do not depend on the table's element type: the float tables carry them.
template <class I>
std::int64_t first_id_out_of_range(const I* ids, std::int64_t n, std::int64_t num_rows) {
  return isa_kernels<float, I>().first_id_out_of_range(ids, n, num_rows);
}

std::int64_t first_bad_bound(const std::int64_t* bounds, std::int64_t count, std::int64_t limit) {
  return isa_kernels<float, std::int64_t>().first_bad_bound(bounds, count, limit);
}

template std::int64_t first_id_out_of_range(const std::int32_t*, std::int64_t, std::int64_t);
template std::int64_t first_id_out_of_range(const std::int64_t*, std::int64_t, std::int64_t);

}  // namespace embedkit::kernels::cpu
