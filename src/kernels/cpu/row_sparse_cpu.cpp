#include "kernels/cpu/row_sparse_cpu.hpp"

#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/sort_terms.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

template <class W>
std::int64_t coalesce_rows(const std::int64_t* indices, const W* values, std::int64_t n,
                           std::int64_t dim, std::int64_t num_rows, std::int64_t* out_indices,
                           W* out_values) {
  if (n <= 0) return 0;
  std::vector<RowTerm> terms(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) terms[static_cast<std::size_t>(i)] = {indices[i], i, 1.0f};
  std::vector<RowTerm> scratch;
  sort_terms_by_dst(terms, 0, num_rows, scratch);
  // Renumber: dst becomes the output position of the term's row.
  std::int64_t unique = 0;
  std::int64_t previous = -1;  // rows are >= 0
  for (RowTerm& t : terms) {
    if (t.dst != previous) {
      previous = t.dst;
      out_indices[unique++] = t.dst;
    }
    t.dst = unique - 1;
  }
  if (dim <= 0) return unique;
  // Threads take contiguous ranges of terms cut at run boundaries, so each output row is one
  // thread's float32 sum in the original order (scale 1: fma(1, x, acc) is acc + x).
  const IsaKernels<W, std::int64_t>& k = isa_kernels<W, std::int64_t>();
  const auto row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  parallel_chunks(threads_for_bytes(n * row_bytes), [&](int c, int chunks) {
    const std::int64_t b = run_aligned_chunk_begin(terms, chunks, c);
    const std::int64_t e = run_aligned_chunk_begin(terms, chunks, c + 1);
    if (b < e) {
      k.segment_reduce(values, dim, terms.data() + b, e - b, out_values, prefetch_ahead(row_bytes));
    }
  });
  return unique;
}

template std::int64_t coalesce_rows<float>(const std::int64_t*, const float*, std::int64_t,
                                           std::int64_t, std::int64_t, std::int64_t*, float*);
template std::int64_t coalesce_rows<Half>(const std::int64_t*, const Half*, std::int64_t,
                                          std::int64_t, std::int64_t, std::int64_t*, Half*);
template std::int64_t coalesce_rows<BFloat16>(const std::int64_t*, const BFloat16*, std::int64_t,
                                              std::int64_t, std::int64_t, std::int64_t*, BFloat16*);

}  // namespace embedkit::kernels::cpu
