#include "kernels/cpu/quantized_cpu.hpp"

#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/quantized_kernels.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/ref/quantized_ref.hpp"

namespace embedkit::kernels::cpu {

namespace {

// The first bag b with bounds[b] + b >= target: bag b costs its ids plus one for its output
// row, and chunk c starts where c / chunks of the total cost is reached (as the float bags).
std::int64_t bag_at_cost(const std::int64_t* bounds, std::int64_t num_bags, std::int64_t target) {
  std::int64_t lo = 0;
  std::int64_t hi = num_bags;
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (bounds[mid] + mid < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace

template <class W>
void quantize_rows(const W* weight, std::int64_t rows, std::int64_t dim, QuantizedFormat format,
                   std::uint8_t* out) {
  const std::int64_t row_bytes = quantized_row_bytes(format, dim);
  const int threads = threads_for_bytes(rows * dim * static_cast<std::int64_t>(sizeof(W)));
  parallel_chunks(threads, [&](int c, int chunks) {
    const std::int64_t r0 = chunk_begin(rows, chunks, c);
    const std::int64_t r1 = chunk_begin(rows, chunks, c + 1);
    std::vector<float> row(static_cast<std::size_t>(dim));
    for (std::int64_t r = r0; r < r1; ++r) {
      for (std::int64_t j = 0; j < dim; ++j)
        row[static_cast<std::size_t>(j)] = to_f32(weight[r * dim + j]);
      ref::quantize_row(row.data(), dim, format, out + r * row_bytes);
    }
  });
}

void dequantize_rows(const std::uint8_t* table, std::int64_t row_bytes, std::int64_t dim,
                     QuantizedFormat format, std::int64_t rows, float* out) {
  const int threads = threads_for_bytes(rows * dim * 4);
  parallel_chunks(threads, [&](int c, int chunks) {
    ref::dequantize_rows(table, row_bytes, dim, format, chunk_begin(rows, chunks, c),
                         chunk_begin(rows, chunks, c + 1), out);
  });
}

template <class I>
void quantized_bag_forward(const std::uint8_t* table, std::int64_t row_bytes, std::int64_t dim,
                           QuantizedFormat format, const I* ids, const std::int64_t* bounds,
                           std::int64_t num_bags, BagMode mode, const float* per_sample_weights,
                           std::int64_t padding_idx, float* out, std::int64_t num_rows) {
  if (num_bags <= 0 || dim <= 0) return;
  const QuantizedIsaKernels<I>& k = quantized_isa_kernels<I>();
  const auto bag = format == QuantizedFormat::Int8   ? k.bag_int8
                   : format == QuantizedFormat::Int4 ? k.bag_int4
                                                     : k.bag_int2;
  const QuantizedBagArgs<I> args{table,
                                 row_bytes,
                                 quantized_code_bytes(format, dim),
                                 dim,
                                 ids,
                                 bounds,
                                 mode,
                                 per_sample_weights,
                                 padding_idx,
                                 out,
                                 table_prefetch_ahead(num_rows * row_bytes, row_bytes)};
  // Threads by the bytes moved: the rows read plus the float32 output written.
  const std::int64_t cost = bounds[num_bags] + num_bags;
  const int threads = threads_for_bytes(bounds[num_bags] * row_bytes + num_bags * dim * 4);
  parallel_chunks(threads, [&](int c, int chunks) {
    const std::int64_t b0 = bag_at_cost(bounds, num_bags, chunk_begin(cost, chunks, c));
    const std::int64_t b1 = c + 1 == chunks
                                ? num_bags
                                : bag_at_cost(bounds, num_bags, chunk_begin(cost, chunks, c + 1));
    if (b0 < b1) bag(args, b0, b1);
  });
}

template void quantize_rows<float>(const float*, std::int64_t, std::int64_t, QuantizedFormat,
                                   std::uint8_t*);
template void quantize_rows<Half>(const Half*, std::int64_t, std::int64_t, QuantizedFormat,
                                  std::uint8_t*);
template void quantize_rows<BFloat16>(const BFloat16*, std::int64_t, std::int64_t, QuantizedFormat,
                                      std::uint8_t*);
template void quantized_bag_forward<std::int32_t>(const std::uint8_t*, std::int64_t, std::int64_t,
                                                  QuantizedFormat, const std::int32_t*,
                                                  const std::int64_t*, std::int64_t, BagMode,
                                                  const float*, std::int64_t, float*, std::int64_t);
template void quantized_bag_forward<std::int64_t>(const std::uint8_t*, std::int64_t, std::int64_t,
                                                  QuantizedFormat, const std::int64_t*,
                                                  const std::int64_t*, std::int64_t, BagMode,
                                                  const float*, std::int64_t, float*, std::int64_t);

}  // namespace embedkit::kernels::cpu
