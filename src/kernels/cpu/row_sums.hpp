// The per-row sums of a row-sparse gradient, handed to a callback row by row instead of being
// stored: the kernel under the fused backward + optimizer step.
//
// Terms arrive sorted by destination row (runs of one row, each in input order; see
// sort_terms.hpp). Threads take contiguous ranges of runs; a thread sums a block of runs into
// its own small scratch (segment_reduce: from 0, fma in term order, exactly ref's sum), then
// calls on_row(row, sum) for each. Every row is summed and reported by one thread, exactly once,
// so the result does not depend on the thread count; on_row must be safe to call concurrently
// for distinct rows.
#pragma once

#include <cstdint>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::cpu {

// Memory that on_row(row, ...) reads and writes: row r at base + r * row_bytes.
struct TouchedRows {
  const void* base;
  std::int64_t row_bytes;
};

// src: the gradient rows terms[].src points at (dim floats each); terms sorted by dst, stably.
// The rows of `touched` (the table, the optimizer's per-row state) for the block after the
// current one are prefetched while the current block is summed and reported: on a large table
// each is otherwise a cache miss the update waits for.
void for_each_row_sum(const float* src, std::int64_t dim, const std::vector<RowTerm>& terms,
                      FunctionRef<void(std::int64_t row, const float* sum)> on_row,
                      const std::vector<TouchedRows>& touched = {});

}  // namespace embedkit::kernels::cpu
