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

// Reused storage of group_by_row.
struct RowGroupingScratch {
  std::vector<std::uint64_t> keys;
  std::vector<std::uint64_t> spare;
  std::vector<std::uint32_t> keys32;
  std::vector<std::uint32_t> spare32;
  std::vector<RowTerm> terms;
};

// The grouping of a backward's ids by row, in the layout the row-sum kernels read: one term
// {rows[i], i, 0} per position i whose row is not padding_idx (< 0: none), sorted by row, the
// positions of one row in input order. ref::group_by_row (kernels/ref/row_groups.hpp) is its
// definition: the terms' src are its `order`, and each run of one dst is one of its groups.
// Sorts (row, position) pairs packed into 32- or 64-bit keys, whichever holds both, on the row
// bits only (radix, digits of at most 11 bits spread evenly over the passes). Every row must be
// in [0, num_rows). `terms` is overwritten; `scratch` is reused storage.
void group_by_row(const std::int64_t* rows, std::int64_t n, std::int64_t num_rows,
                  std::int64_t padding_idx, std::vector<RowTerm>& terms,
                  RowGroupingScratch& scratch);

// group_by_row for bags, each term's src its bag rather than its position: {rows[i], b, 0} for
// each non-padding position i of bag b = [bounds[b], bounds[b + 1]), in group_by_row's order.
// A bag index needs fewer bits than a position (256 bags: 8 bits against 14 for their 11,000
// ids), so (row, bag) often fits a 32-bit key where (row, position) does not, and a caller
// that only needs the bag (no per-sample weights) is spared the position-to-bag lookup.
void group_bags_by_row(const std::int64_t* rows, const std::int64_t* bounds, std::int64_t num_bags,
                       std::int64_t num_rows, std::int64_t padding_idx, std::vector<RowTerm>& terms,
                       RowGroupingScratch& scratch);

// Where chunk `at` of `chunks` over terms sorted by dst begins (chunk_begin), moved forward to
// the start of a run of one dst: threads that take [begin(c), begin(c + 1)) never split a run
// (terms in runs: every dst's terms contiguous, as group_by_row lays them out).
inline std::int64_t run_aligned_chunk_begin(const std::vector<RowTerm>& terms, int chunks, int at) {
  auto e =
      static_cast<std::size_t>(chunk_begin(static_cast<std::int64_t>(terms.size()), chunks, at));
  while (e > 0 && e < terms.size() && terms[e].dst == terms[e - 1].dst) ++e;
  return static_cast<std::int64_t>(e);
}

}  // namespace embedkit::kernels::cpu
