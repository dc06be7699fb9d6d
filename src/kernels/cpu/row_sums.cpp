#include "kernels/cpu/row_sums.hpp"

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/sort_terms.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

namespace {

// Rows summed per block: enough to keep segment_reduce's prefetching busy, few enough that the
// scratch (kBlockRows x dim floats) stays in L1/L2 until the callbacks read it back.
constexpr std::int64_t kBlockRows = 32;

// Every cache line of `row` in each of `touched`, for writing.
void prefetch_touched(const std::vector<TouchedRows>& touched, std::int64_t row) {
  for (const TouchedRows& t : touched) {
    const char* first = static_cast<const char*>(t.base) + row * t.row_bytes;
    // Every line the row covers, also when it starts mid-line (rows of a few bytes).
    const auto start = reinterpret_cast<std::uintptr_t>(first) & ~std::uintptr_t{63};
    const auto stop = reinterpret_cast<std::uintptr_t>(first + t.row_bytes);
    for (std::uintptr_t line = start; line < stop; line += 64) {
      __builtin_prefetch(reinterpret_cast<const void*>(line), 1);
    }
  }
}

}  // namespace

void for_each_row_sum(const float* src, std::int64_t dim, const std::vector<RowTerm>& terms,
                      FunctionRef<void(std::int64_t row, const float* sum)> on_row,
                      const std::vector<TouchedRows>& touched) {
  const auto n = static_cast<std::int64_t>(terms.size());
  if (n == 0) return;
  const IsaKernels<float, std::int64_t>& k = isa_kernels<float, std::int64_t>();
  const std::int64_t row_bytes = dim * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t ahead = prefetch_ahead(row_bytes);
  const bool spread = n * row_bytes >= kSpreadPrefetchMinBytes;
  parallel_chunks(
      threads_for_bytes(n * std::max<std::int64_t>(row_bytes, 1)), [&](int c, int chunks) {
        const std::int64_t begin = run_aligned_chunk_begin(terms, chunks, c);
        const std::int64_t end = run_aligned_chunk_begin(terms, chunks, c + 1);
        std::vector<float> scratch(
            static_cast<std::size_t>(kBlockRows * std::max<std::int64_t>(dim, 1)));
        std::vector<RowTerm> block;  // the block's terms, dst renumbered to scratch slots
        std::int64_t rows[kBlockRows];
        std::int64_t next_rows[kBlockRows];
        std::int64_t e = begin;
        while (e < end) {
          block.clear();
          std::int64_t slots = 0;
          while (e < end && slots < kBlockRows) {
            const std::int64_t row = terms[static_cast<std::size_t>(e)].dst;
            rows[slots] = row;
            for (; e < end && terms[static_cast<std::size_t>(e)].dst == row; ++e) {
              RowTerm t = terms[static_cast<std::size_t>(e)];
              t.dst = slots;
              block.push_back(t);
            }
            ++slots;
          }
          // The next block's rows, to prefetch while this block is reported.
          std::int64_t next = 0;
          for (std::int64_t f = e; f < end && next < kBlockRows && !touched.empty(); ++f) {
            const std::int64_t row = terms[static_cast<std::size_t>(f)].dst;
            if (f > e && row == terms[static_cast<std::size_t>(f - 1)].dst) continue;
            next_rows[next++] = row;
          }
          // See kSpreadPrefetchMinBytes: all at once, or one per row reported.
          const std::int64_t early = spread ? 0 : next;
          for (std::int64_t s = 0; s < early; ++s) prefetch_touched(touched, next_rows[s]);
          if (dim > 0) {
            k.segment_reduce(src, dim, block.data(), static_cast<std::int64_t>(block.size()),
                             scratch.data(), ahead);
          }
          for (std::int64_t s = 0; s < slots; ++s) {
            if (early + s < next) prefetch_touched(touched, next_rows[early + s]);
            on_row(rows[s], scratch.data() + s * dim);
          }
          for (std::int64_t s = early + slots; s < next; ++s) {
            prefetch_touched(touched, next_rows[s]);
          }
        }
      });
}

}  // namespace embedkit::kernels::cpu
