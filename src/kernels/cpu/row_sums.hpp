// The per-row sums of a row-sparse gradient, handed to a callback row by row instead of being
// stored: the kernel under the fused backward + optimizer step.
//
// Terms arrive in runs of one destination row, each in input order, every row in one run
// (as sort_terms.hpp's group_by_row lays them out). Threads take contiguous
// ranges of runs; a thread sums one run into its own scratch row (from 0, fma in term order,
// exactly ref's sum), then calls on_row(row, sum), then sums the next. Every row is summed and
// reported by one thread, exactly once, so the result does not depend on the thread count; on_row
// must be safe to call concurrently for distinct rows.
#pragma once

#include <cstdint>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::cpu {

// src: the gradient rows terms[].src points at (src_rows rows of dim floats); terms in runs
// of one dst (above). Each run of one dst is summed (segment_reduce's order: from 0, fma in term
// order) into a thread's one-row scratch and handed to on_row at once, while it is in L1. Rows
// are prefetched a fixed distance ahead in term order (tuning.hpp, prefetch_ahead): the
// gradient rows to come, and, for writing, the rows of `touched` (the table, the optimizer's
// per-row state) that on_row will update; either is skipped when its rows fit in the L2 cache
// the machine reports, where a prefetch only costs a load slot.
void for_each_row_sum(const float* src, std::int64_t src_rows, std::int64_t dim,
                      const std::vector<RowTerm>& terms,
                      FunctionRef<void(std::int64_t row, const float* sum)> on_row,
                      const std::vector<TouchedRows>& touched = {});

// for_each_row_sum with plain SGD as on_row, fused into the kernel: table row r =
// fma(step, sum_r, table row r) per element (step = -lr; SGD without momentum, weight decay or
// maximize), for every run's row r except frozen_row (< 0: none), summed exactly as
// for_each_row_sum sums it but in registers, the row updated straight from them. Bitwise
// ref::sgd_step_runs (kernels/ref/row_sums_ref.hpp) at any thread count: each row is one
// thread's. table: num_rows rows of dim floats.
void sgd_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                   const std::vector<RowTerm>& terms, float* table, std::int64_t num_rows,
                   float step, std::int64_t frozen_row);

// for_each_row_sum with row-wise Adagrad without weight decay (optim::RowWiseAdagrad's row
// update) as on_row, fused into the kernel: each run's sum, in a thread's one-row scratch, goes
// straight into the update of its table row and of accumulators[row] (one float per row), but
// frozen_row's (< 0: none). Bitwise ref::rowwise_adagrad_step_runs at any thread count.
void rowwise_adagrad_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                               const std::vector<RowTerm>& terms, float* table,
                               std::int64_t num_rows, float* accumulators, float lr, float eps,
                               std::int64_t frozen_row);

// The same with Adagrad's element-wise update (optim::Adagrad's sparse row update without
// weight decay, not maximizing; neg_clr = -clr of the step being taken): accumulators holds a row
// of dim floats per table row. Bitwise ref::adagrad_step_runs at any thread count.
void adagrad_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                       const std::vector<RowTerm>& terms, float* table, std::int64_t num_rows,
                       float* accumulators, float neg_clr, float eps, std::int64_t frozen_row);

}  // namespace embedkit::kernels::cpu
