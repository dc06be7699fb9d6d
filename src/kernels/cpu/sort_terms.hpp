// Stable sort of gradient terms by destination row: what turns "rows in input order" into
// "runs of one row, each in input order", the layout the segment reductions need.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::cpu {

// Sorts terms by dst, keeping the order of equal dst; every dst must be in [lo, hi).
// Radix sort (11-bit digits over the bits hi - lo needs) for large inputs, std::stable_sort for
// small ones. `scratch` is reused storage.
void sort_terms_by_dst(std::vector<RowTerm>& terms, std::int64_t lo, std::int64_t hi,
                       std::vector<RowTerm>& scratch);

}  // namespace embedkit::kernels::cpu
