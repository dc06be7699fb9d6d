#include "kernels/cpu/input_order_update.hpp"

#include <algorithm>
#include <cstdint>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

namespace {

// The thread (of `chunks`) that owns `row`: a multiplicative hash scaled to [0, chunks), so
// that tables whose frequent ids are numbered first (vocabularies by count) still spread.
int owner(std::int64_t row, int chunks) {
  const std::uint64_t h = static_cast<std::uint64_t>(row) * 0x9E3779B97F4A7C15ull;
  return static_cast<int>(((h >> 32) * static_cast<std::uint64_t>(chunks)) >> 32);
}

}  // namespace

void apply_in_input_order(const float* src, std::int64_t dim, const std::vector<RowTerm>& terms,
                          float* table, std::int64_t num_rows) {
  const auto n = static_cast<std::int64_t>(terms.size());
  if (n == 0 || dim == 0) return;
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t ahead = table_prefetch_ahead(num_rows * row_bytes, row_bytes);
  // Each occurrence reads a gradient row and reads and writes a table row.
  const int threads = threads_for_bytes(3 * n * row_bytes);
  if (threads == 1) {
    k.accumulate(src, dim, terms.data(), n, table, ahead);
    return;
  }
  parallel_chunks(threads, [&](int c, int chunks) {
    // This thread's terms, in input order; kept for the thread's next call (a batch's size,
    // page-faulted in once).
    thread_local std::vector<RowTerm> mine;
    mine.clear();
    for (const RowTerm& t : terms) {
      if (owner(t.dst, chunks) == c) mine.push_back(t);
    }
    k.accumulate(src, dim, mine.data(), static_cast<std::int64_t>(mine.size()), table, ahead);
  });
}

}  // namespace embedkit::kernels::cpu
