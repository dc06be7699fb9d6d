// Fast CPU kernels of the row-wise quantized tables: the twins of kernels/ref/quantized_ref.hpp,
// same contract, same results bit for bit. The bags run the per-instruction-set kernels
// (quantized_impl.hpp) on threads, bags split by their number of ids; quantizing and
// dequantizing, done once per table, run ref's row functions on threads (rows are independent).
#pragma once

#include <cstdint>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/dtype.hpp"
#include "embedkit/core/quantized_format.hpp"

namespace embedkit::kernels::cpu {

// ref::quantize_row for each of `rows` rows of `weight` (W: float, Half or BFloat16, widened
// exactly first), into rows of quantized_row_bytes(format, dim) bytes at `out`.
template <class W>
void quantize_rows(const W* weight, std::int64_t rows, std::int64_t dim, QuantizedFormat format,
                   std::uint8_t* out);

// ref::dequantize_rows over all `rows` rows.
void dequantize_rows(const std::uint8_t* table, std::int64_t row_bytes, std::int64_t dim,
                     QuantizedFormat format, std::int64_t rows, float* out);

// ref::quantized_bag_forward. num_rows (the table's) lets tables that live in cache skip
// prefetching.
template <class I>
void quantized_bag_forward(const std::uint8_t* table, std::int64_t row_bytes, std::int64_t dim,
                           QuantizedFormat format, const I* ids, const std::int64_t* bounds,
                           std::int64_t num_bags, BagMode mode, const float* per_sample_weights,
                           std::int64_t padding_idx, float* out, std::int64_t num_rows);

}  // namespace embedkit::kernels::cpu
