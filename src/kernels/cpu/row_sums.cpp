#include "kernels/cpu/row_sums.hpp"

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/cache_sizes.hpp"
#include "kernels/cpu/sort_terms.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

namespace {

// Runs kernel(prefetch, begin, end, sum) on the terms in contiguous ranges of whole runs,
// kTasksPerThread ranges per thread claimed one at a time (parallel_tasks), each with its own
// one-row scratch `sum` (dim floats; with kScratch false none is allocated and sum is null, for
// kernels that sum in registers). What `prefetch` asks for: the gradient rows to come, and, for
// writing, the rows of `touched` (the table, the optimizer's per-row state) that the kernel will
// update, both prefetch_ahead's distance ahead (16 rows at D = 128). Either is skipped when its
// rows fit in the L2 cache the machine reports: there a prefetch only costs a load slot. The table
// rows are prefetched for writing (kernels_impl.hpp, prefetch_touched): a read prefetch there made
// the step twice as slow (SGD, 512 MiB table, 16384 ids: 6.3-8.0 ms against 3.3-3.8 ms for the old
// block kernel, whatever the distance, 4 to 128 rows).
template <bool kScratch = true, class Kernel>
void run_chunks(std::int64_t src_rows, std::int64_t dim, const std::vector<RowTerm>& terms,
                const TouchedRows* touched, std::int64_t touched_count, Kernel&& kernel) {
  const auto n = static_cast<std::int64_t>(terms.size());
  if (n == 0) return;
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t cache = l2_cache_bytes();
  std::int64_t touched_bytes = 0;
  for (std::int64_t t = 0; t < touched_count; ++t) {
    touched_bytes += touched[t].rows * touched[t].row_bytes;
  }
  const std::int64_t ahead = prefetch_ahead(row_bytes);
  const RunPrefetch prefetch{src_rows * row_bytes > cache ? ahead : 0, touched, touched_count,
                             touched_bytes > cache ? ahead : 0};
  // Runs are independent: split finer than one piece per thread (tuning.hpp, kTasksPerThread).
  parallel_tasks(tasks_for_bytes(n * std::max<std::int64_t>(row_bytes, 1)), [&](int c, int chunks) {
    const std::int64_t begin = run_aligned_chunk_begin(terms, chunks, c);
    const std::int64_t end = run_aligned_chunk_begin(terms, chunks, c + 1);
    if (begin == end) return;
    if constexpr (kScratch) {
      std::vector<float> sum(static_cast<std::size_t>(std::max<std::int64_t>(dim, 1)));
      kernel(prefetch, begin, end, sum.data());
    } else {
      kernel(prefetch, begin, end, nullptr);
    }
  });
}

}  // namespace

void for_each_row_sum(const float* src, std::int64_t src_rows, std::int64_t dim,
                      const std::vector<RowTerm>& terms,
                      FunctionRef<void(std::int64_t row, const float* sum)> on_row,
                      const std::vector<TouchedRows>& touched) {
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  run_chunks(src_rows, dim, terms, touched.data(), static_cast<std::int64_t>(touched.size()),
             [&](const RunPrefetch& prefetch, std::int64_t begin, std::int64_t end, float* sum) {
               k.reduce_runs(src, dim, terms.data() + begin, end - begin, prefetch, sum, on_row);
             });
}

void sgd_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                   const std::vector<RowTerm>& terms, float* table, std::int64_t num_rows,
                   float step, std::int64_t frozen_row) {
  if (dim <= 0) return;
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  const TouchedRows touched{table, dim * static_cast<std::int64_t>(sizeof(float)), num_rows};
  run_chunks<false>(src_rows, dim, terms, &touched, 1,
                    [&](const RunPrefetch& prefetch, std::int64_t begin, std::int64_t end, float*) {
                      k.sgd_runs(src, dim, terms.data() + begin, end - begin, prefetch, table, step,
                                 frozen_row);
                    });
}

void rowwise_adagrad_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                               const std::vector<RowTerm>& terms, float* table,
                               std::int64_t num_rows, float* accumulators, float lr, float eps,
                               std::int64_t frozen_row) {
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  const TouchedRows touched[] = {
      {table, dim * static_cast<std::int64_t>(sizeof(float)), num_rows},
      {accumulators, static_cast<std::int64_t>(sizeof(float)), num_rows}};
  run_chunks(src_rows, dim, terms, touched, 2,
             [&](const RunPrefetch& prefetch, std::int64_t begin, std::int64_t end, float* sum) {
               k.rowwise_adagrad_runs(src, dim, terms.data() + begin, end - begin, prefetch, sum,
                                      table, accumulators, lr, eps, frozen_row);
             });
}

void adagrad_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                       const std::vector<RowTerm>& terms, float* table, std::int64_t num_rows,
                       float* accumulators, float neg_clr, float eps, std::int64_t frozen_row) {
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  const TouchedRows touched[] = {{table, row_bytes, num_rows}, {accumulators, row_bytes, num_rows}};
  run_chunks(src_rows, dim, terms, touched, 2,
             [&](const RunPrefetch& prefetch, std::int64_t begin, std::int64_t end, float* sum) {
               k.adagrad_runs(src, dim, terms.data() + begin, end - begin, prefetch, sum, table,
                              accumulators, neg_clr, eps, frozen_row);
             });
}

}  // namespace embedkit::kernels::cpu
