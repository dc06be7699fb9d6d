#include "kernels/cpu/embedding_cpu.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/row_gradient.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

namespace {

template <class I>
std::int64_t count_not(const I* ids, std::int64_t begin, std::int64_t end, std::int64_t value) {
  std::int64_t c = 0;
  for (std::int64_t i = begin; i < end; ++i) c += static_cast<std::int64_t>(ids[i]) != value;
  return c;
}

}  // namespace

template <class W, class I>
void gather(const W* weight, std::int64_t dim, const I* ids, std::int64_t n, W* out,
            std::int64_t num_rows) {
  if (n <= 0 || dim <= 0) return;
  const IsaKernels<W, I>& k = isa_kernels<W, I>();
  const auto row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  // Whole output lines only: a partial line written around the cache costs a read anyway.
  const bool stream = n * row_bytes >= kStreamMinBytes && row_bytes % 64 == 0 &&
                      reinterpret_cast<std::uintptr_t>(out) % 64 == 0;
  const std::int64_t ahead =
      table_prefetch_ahead(num_rows < 0 ? -1 : num_rows * row_bytes, row_bytes);
  parallel_for(n, min_items_per_thread(2 * row_bytes), [&](std::int64_t b, std::int64_t e) {
    k.gather(weight, dim, ids, b, e, out, stream, ahead);
  });
}

template <class W, class I>
void renorm_rows(W* weight, std::int64_t dim, const I* ids, std::int64_t n, double max_norm,
                 double norm_type) {
  if (n <= 0 || dim <= 0) return;
  std::vector<std::int64_t> rows(ids, ids + n);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  const IsaKernels<W, I>& k = isa_kernels<W, I>();
  const auto row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  parallel_for(static_cast<std::int64_t>(rows.size()), min_items_per_thread(2 * row_bytes),
               [&](std::int64_t b, std::int64_t e) {
                 k.renorm(weight, dim, rows.data() + b, e - b, max_norm, norm_type);
               });
}

template <class W, class I>
void embedding_backward_dense(const W* grad_out, const I* ids, std::int64_t n, std::int64_t dim,
                              std::int64_t num_rows, std::int64_t padding_idx,
                              bool scale_grad_by_freq, W* grad_weight) {
  auto produce = [&](std::int64_t r0, std::int64_t r1, auto&& emit) {
    std::vector<std::int64_t> counts;  // of this thread's rows only
    if (scale_grad_by_freq) {
      counts.assign(static_cast<std::size_t>(r1 - r0), 0);
      for (std::int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<std::int64_t>(ids[i]);
        if (k >= r0 && k < r1) ++counts[static_cast<std::size_t>(k - r0)];
      }
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::int64_t>(ids[i]);
      if (k < r0 || k >= r1 || k == padding_idx) continue;
      // ref: the double 1 / count rounded to float.
      const float scale =
          scale_grad_by_freq
              ? static_cast<float>(1.0 /
                                   static_cast<double>(counts[static_cast<std::size_t>(k - r0)]))
              : 1.0f;
      emit(RowTerm{k, i, scale});
    }
  };
  dense_row_gradient(grad_out, dim, num_rows, n, produce, grad_weight);
}

template <class W, class I>
std::int64_t embedding_backward_sparse(const W* grad_out, const I* ids, std::int64_t n,
                                       std::int64_t dim, std::int64_t padding_idx,
                                       std::int64_t* out_indices, W* out_values) {
  // No entries when dim == 0 (ref: a gradient without elements is empty, as PyTorch's).
  if (n <= 0 || dim <= 0) return 0;
  const auto row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  const int threads = threads_for_bytes(2 * n * std::max<std::int64_t>(row_bytes, 8));
  // Where each chunk's entries start: a count per chunk, then a prefix sum.
  std::vector<std::int64_t> chunk_start(static_cast<std::size_t>(threads) + 1, 0);
  parallel_chunks(threads, [&](int c, int chunks) {
    const std::int64_t b = chunk_begin(n, chunks, c);
    const std::int64_t e = chunk_begin(n, chunks, c + 1);
    chunk_start[static_cast<std::size_t>(c) + 1] =
        padding_idx < 0 ? e - b : count_not(ids, b, e, padding_idx);
  });
  for (std::size_t c = 1; c < chunk_start.size(); ++c) chunk_start[c] += chunk_start[c - 1];
  parallel_chunks(threads, [&](int c, int chunks) {
    const std::int64_t b = chunk_begin(n, chunks, c);
    const std::int64_t e = chunk_begin(n, chunks, c + 1);
    std::int64_t o = chunk_start[static_cast<std::size_t>(c)];
    std::int64_t i = b;
    while (i < e) {
      // A run of non-padding positions is one block copy of their gradient rows.
      std::int64_t j = i;
      while (j < e && static_cast<std::int64_t>(ids[j]) != padding_idx) {
        out_indices[o + (j - i)] = static_cast<std::int64_t>(ids[j]);
        ++j;
      }
      if (j > i && row_bytes > 0) {
        std::memcpy(out_values + o * dim, grad_out + i * dim,
                    static_cast<std::size_t>((j - i) * row_bytes));
      }
      o += j - i;
      i = j + 1;  // past the padding position (or past e)
    }
  });
  return chunk_start.back();
}

#define EMBEDKIT_INSTANTIATE(W, I)                                                              \
  template void gather<W, I>(const W*, std::int64_t, const I*, std::int64_t, W*, std::int64_t); \
  template void renorm_rows<W, I>(W*, std::int64_t, const I*, std::int64_t, double, double);    \
  template void embedding_backward_dense<W, I>(const W*, const I*, std::int64_t, std::int64_t,  \
                                               std::int64_t, std::int64_t, bool, W*);           \
  template std::int64_t embedding_backward_sparse<W, I>(                                        \
      const W*, const I*, std::int64_t, std::int64_t, std::int64_t, std::int64_t*, W*);

EMBEDKIT_INSTANTIATE(float, std::int32_t)
EMBEDKIT_INSTANTIATE(float, std::int64_t)
EMBEDKIT_INSTANTIATE(Half, std::int32_t)
EMBEDKIT_INSTANTIATE(Half, std::int64_t)
EMBEDKIT_INSTANTIATE(BFloat16, std::int32_t)
EMBEDKIT_INSTANTIATE(BFloat16, std::int64_t)
#undef EMBEDKIT_INSTANTIATE

}  // namespace embedkit::kernels::cpu
