// Stable sort of gradient terms by destination row: what turns "rows in input order" into
// "runs of one row, each in input order", the layout the segment reductions need.
#pragma once

#include <cstdint>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::cpu {

// Sorts terms by dst, keeping the order of equal dst; every dst must be in [lo, hi).
// Radix sort (11-bit digits over the bits hi - lo needs) for large inputs, std::stable_sort for
// small ones. `scratch` is reused storage.
void sort_terms_by_dst(std::vector<RowTerm>& terms, std::int64_t lo, std::int64_t hi,
                       std::vector<RowTerm>& scratch);

// Where chunk `at` of `chunks` over terms sorted by dst begins (chunk_begin), moved forward to
// the start of a run of one dst: threads that take [begin(c), begin(c + 1)) never split a run.
inline std::int64_t run_aligned_chunk_begin(const std::vector<RowTerm>& terms, int chunks, int at) {
  auto e =
      static_cast<std::size_t>(chunk_begin(static_cast<std::int64_t>(terms.size()), chunks, at));
  while (e > 0 && e < terms.size() && terms[e].dst == terms[e - 1].dst) ++e;
  return static_cast<std::int64_t>(e);
}

}  // namespace embedkit::kernels::cpu
