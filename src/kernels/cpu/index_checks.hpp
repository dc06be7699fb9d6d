// Fast index checks: the twins of kernels/ref/index_checks_ref.hpp, vectorised for the CPU's
// instruction set. Every lookup checks all of its ids (and a bag lookup all of its offsets)
// before it reads a row, so these must run at memory speed: the plain early-exit loops do not
// vectorise, and on a cache-sized table they were a fifth of a bag sum's time.
#pragma once

#include <cstdint>

namespace embedkit::kernels::cpu {

// ref::first_id_out_of_range.
template <class I>
std::int64_t first_id_out_of_range(const I* ids, std::int64_t n, std::int64_t num_rows);

// ref::first_bad_bound.
std::int64_t first_bad_bound(const std::int64_t* bounds, std::int64_t count, std::int64_t limit);

}  // namespace embedkit::kernels::cpu
