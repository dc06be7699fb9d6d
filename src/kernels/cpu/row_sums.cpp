#include "kernels/cpu/row_sums.hpp"

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/cache_sizes.hpp"
#include "kernels/cpu/sort_terms.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

void for_each_row_sum(const float* src, std::int64_t src_rows, std::int64_t dim,
                      const std::vector<RowTerm>& terms,
                      FunctionRef<void(std::int64_t row, const float* sum)> on_row,
                      const std::vector<TouchedRows>& touched) {
  const auto n = static_cast<std::int64_t>(terms.size());
  if (n == 0) return;
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  // Rows that fit in the L2 cache are not prefetched: there a prefetch only costs a load slot.
  // Both distances are prefetch_ahead's (16 rows at D = 128): the table rows are prefetched
  // for writing (kernels_impl.hpp, prefetch_touched), and a read prefetch there made the step
  // twice as slow (SGD, 512 MiB table, 16384 ids: 6.3-8.0 ms against 3.3-3.8 ms for the old
  // block kernel, whatever the distance, 4 to 128 rows).
  const std::int64_t cache = l2_cache_bytes();
  std::int64_t touched_bytes = 0;
  for (const TouchedRows& t : touched) touched_bytes += t.rows * t.row_bytes;
  const std::int64_t ahead = prefetch_ahead(row_bytes);
  const RunPrefetch prefetch{src_rows * row_bytes > cache ? ahead : 0, touched.data(),
                             static_cast<std::int64_t>(touched.size()),
                             touched_bytes > cache ? ahead : 0};
  parallel_chunks(
      threads_for_bytes(n * std::max<std::int64_t>(row_bytes, 1)), [&](int c, int chunks) {
        const std::int64_t begin = run_aligned_chunk_begin(terms, chunks, c);
        const std::int64_t end = run_aligned_chunk_begin(terms, chunks, c + 1);
        if (begin == end) return;
        std::vector<float> sum(static_cast<std::size_t>(std::max<std::int64_t>(dim, 1)));
        k.reduce_runs(src, dim, terms.data() + begin, end - begin, prefetch, sum.data(), on_row);
      });
}

void sgd_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                   const std::vector<RowTerm>& terms, float* table, std::int64_t num_rows,
                   float step, std::int64_t frozen_row) {
  const auto n = static_cast<std::int64_t>(terms.size());
  if (n == 0 || dim <= 0) return;
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  // Prefetching as for_each_row_sum's, the table the one touched memory.
  const std::int64_t cache = l2_cache_bytes();
  const std::int64_t ahead = prefetch_ahead(row_bytes);
  const TouchedRows touched{table, row_bytes, num_rows};
  const RunPrefetch prefetch{src_rows * row_bytes > cache ? ahead : 0, &touched, 1,
                             num_rows * row_bytes > cache ? ahead : 0};
  parallel_chunks(threads_for_bytes(n * row_bytes), [&](int c, int chunks) {
    const std::int64_t begin = run_aligned_chunk_begin(terms, chunks, c);
    const std::int64_t end = run_aligned_chunk_begin(terms, chunks, c + 1);
    if (begin == end) return;
    k.sgd_runs(src, dim, terms.data() + begin, end - begin, prefetch, table, step, frozen_row);
  });
}

namespace {

// The driver of the kernels that sum each run into a thread's one-row scratch and update the
// table row and its optimizer state at once: prefetching as for_each_row_sum's, the table and
// the state (accumulator_bytes a row) the touched memory; kernel(begin, end, sum) runs the
// terms [begin, end) of one thread.
template <class Kernel>
void runs_with_state(std::int64_t src_rows, std::int64_t dim, const std::vector<RowTerm>& terms,
                     float* table, std::int64_t num_rows, float* accumulators,
                     std::int64_t accumulator_bytes, Kernel&& kernel) {
  const auto n = static_cast<std::int64_t>(terms.size());
  if (n == 0) return;
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t cache = l2_cache_bytes();
  const std::int64_t ahead = prefetch_ahead(row_bytes);
  const TouchedRows touched[] = {{table, row_bytes, num_rows},
                                 {accumulators, accumulator_bytes, num_rows}};
  const RunPrefetch prefetch{src_rows * row_bytes > cache ? ahead : 0, touched, 2,
                             num_rows * (row_bytes + accumulator_bytes) > cache ? ahead : 0};
  parallel_chunks(
      threads_for_bytes(n * std::max<std::int64_t>(row_bytes, 1)), [&](int c, int chunks) {
        const std::int64_t begin = run_aligned_chunk_begin(terms, chunks, c);
        const std::int64_t end = run_aligned_chunk_begin(terms, chunks, c + 1);
        if (begin == end) return;
        std::vector<float> sum(static_cast<std::size_t>(std::max<std::int64_t>(dim, 1)));
        kernel(prefetch, begin, end, sum.data());
      });
}

}  // namespace

void rowwise_adagrad_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                               const std::vector<RowTerm>& terms, float* table,
                               std::int64_t num_rows, float* accumulators, float lr, float eps,
                               std::int64_t frozen_row) {
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  runs_with_state(
      src_rows, dim, terms, table, num_rows, accumulators, static_cast<std::int64_t>(sizeof(float)),
      [&](const RunPrefetch& prefetch, std::int64_t begin, std::int64_t end, float* sum) {
        k.rowwise_adagrad_runs(src, dim, terms.data() + begin, end - begin, prefetch, sum, table,
                               accumulators, lr, eps, frozen_row);
      });
}

void adagrad_step_runs(const float* src, std::int64_t src_rows, std::int64_t dim,
                       const std::vector<RowTerm>& terms, float* table, std::int64_t num_rows,
                       float* accumulators, float neg_clr, float eps, std::int64_t frozen_row) {
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  runs_with_state(
      src_rows, dim, terms, table, num_rows, accumulators,
      dim * static_cast<std::int64_t>(sizeof(float)),
      [&](const RunPrefetch& prefetch, std::int64_t begin, std::int64_t end, float* sum) {
        k.adagrad_runs(src, dim, terms.data() + begin, end - begin, prefetch, sum, table,
                       accumulators, neg_clr, eps, frozen_row);
      });
}

}  // namespace embedkit::kernels::cpu
