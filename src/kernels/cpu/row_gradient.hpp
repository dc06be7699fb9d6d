// The dense table gradient shared by Embedding and EmbeddingBag: grad_weight (num_rows x dim,
// overwritten) = for every term, in term order, grad[t.dst] = fma(t.scale, src[t.src], ...).
//
// Determinism without atomics: the rows are split into one contiguous range per thread; a
// thread zeroes its range and applies, in input order, exactly the terms whose row it owns.
// Every row's sum is therefore computed by one thread in input order, as ref does, whatever the
// number of threads. float32 tables accumulate in place; float16/bfloat16 tables sort their
// terms by row (stably) and sum each run in float32 before rounding once, as ref's float32
// scratch table would.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/cpu/sort_terms.hpp"
#include "kernels/cpu/tuning.hpp"

namespace embedkit::kernels::cpu {

// produce(r0, r1, emit) must call emit(RowTerm) for each term whose dst is in [r0, r1), in
// input order. It is called once per thread, concurrently. num_terms: about how many terms
// there are in all (for the thread count).
template <class W, class Producer>
void dense_row_gradient(const W* src, std::int64_t dim, std::int64_t num_rows,
                        std::int64_t num_terms, const Producer& produce, W* grad_weight) {
  const IsaKernels<W, std::int64_t>& k = isa_kernels<W, std::int64_t>();
  const auto row_bytes = dim * static_cast<std::int64_t>(sizeof(W));
  const int threads = threads_for_bytes((num_rows + num_terms) * row_bytes);
  const std::int64_t ahead = prefetch_ahead(row_bytes);
  parallel_chunks(threads, [&](int c, int chunks) {
    const std::int64_t r0 = chunk_begin(num_rows, chunks, c);
    const std::int64_t r1 = chunk_begin(num_rows, chunks, c + 1);
    if (r0 == r1) return;
    // All-zero bits are +0.0 in every float type, ref's starting value.
    if (row_bytes != 0) {
      std::memset(static_cast<void*>(grad_weight + r0 * dim), 0,
                  static_cast<std::size_t>((r1 - r0) * row_bytes));
    }
    if constexpr (std::is_same_v<W, float>) {
      // Applied in batches: the terms stay in cache between being made and being used.
      constexpr std::size_t kBatch = 2048;
      std::vector<RowTerm> batch;
      batch.reserve(kBatch);
      produce(r0, r1, [&](const RowTerm& t) {
        batch.push_back(t);
        if (batch.size() == kBatch) {
          k.accumulate(src, dim, batch.data(), static_cast<std::int64_t>(batch.size()), grad_weight,
                       ahead);
          batch.clear();
        }
      });
      if (!batch.empty()) {
        k.accumulate(src, dim, batch.data(), static_cast<std::int64_t>(batch.size()), grad_weight,
                     ahead);
      }
    } else {
      std::vector<RowTerm> terms;
      std::vector<RowTerm> scratch;
      produce(r0, r1, [&](const RowTerm& t) { terms.push_back(t); });
      sort_terms_by_dst(terms, r0, r1, scratch);
      k.segment_reduce(src, dim, terms.data(), static_cast<std::int64_t>(terms.size()), grad_weight,
                       ahead);
    }
  });
}

}  // namespace embedkit::kernels::cpu
