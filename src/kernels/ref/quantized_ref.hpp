// Reference kernels of the row-wise quantized tables (core/quantized_format.hpp has the row
// layout): quantizing a float row, dequantizing rows, and bags of quantized rows. The contract
// of embedding_ref.hpp holds: input already validated, plain scalar C++, float32 arithmetic.
//
// The arithmetic is PyTorch 1.13's own for these formats (aten/src/ATen/native/quantized/cpu,
// the paths that run without FBGEMM, as Debian's build does), operation for operation:
//
// quantize, int8:   lo = min(x), range = max(x) - lo, scale = range / 255,
//                   code = lrint((x - lo) * (255 / (range + 1e-8)))
// quantize, int4/2: lo = float16(min(x)), range = max(x) - lo,
//                   scale = float16(range / (2^bits - 1)) (1 when range == 0, or when the
//                   float16 scale is 0), code = clamp(lrint((x - lo) * (1 / scale)), 0, 2^bits-1)
//                   bias = lo
// dequantize:       code * scale + bias, the product rounded before the add
// bag (sum):        acc = fma(w * scale, code, acc + w * bias) per id, from acc = 0, in id order
//                   (w: the id's per-sample weight, or 1)
//
// lrint rounds half to even. PyTorch's bag computes its fma in double (std::fma with an integer
// argument promotes to double) and rounds the result to float; here it is a float fma. The two
// agree unless the exact sum, rounded to double, lands exactly halfway between two floats when
// it was not halfway before: the product of a 24-bit scale and an 8-bit code is exact in
// double, so that takes the sum and acc + bias so far apart in magnitude that it needs more
// than 53 bits, and then a 29-bit pattern in the discarded bits (docs/quantization.md).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/dtype.hpp"
#include "embedkit/core/quantized_format.hpp"

namespace embedkit::kernels::ref {

// The scale and bias of a packed row (`row` points at its first byte).
inline float quantized_scale(const std::uint8_t* row, QuantizedFormat format, std::int64_t dim) {
  const std::uint8_t* p = row + quantized_code_bytes(format, dim);
  if (format == QuantizedFormat::Int8) {
    float s = 0;
    std::memcpy(&s, p, sizeof s);
    return s;
  }
  Half h;
  std::memcpy(&h.bits, p, sizeof h.bits);
  return to_f32(h);
}

inline float quantized_bias(const std::uint8_t* row, QuantizedFormat format, std::int64_t dim) {
  const std::uint8_t* p = row + quantized_code_bytes(format, dim);
  if (format == QuantizedFormat::Int8) {
    float b = 0;
    std::memcpy(&b, p + 4, sizeof b);
    return b;
  }
  Half h;
  std::memcpy(&h.bits, p + 2, sizeof h.bits);
  return to_f32(h);
}

// Element j's code.
inline std::uint8_t quantized_code(const std::uint8_t* row, QuantizedFormat format,
                                   std::int64_t j) {
  const int bits = quantized_bits(format);
  const std::int64_t per_byte = quantized_codes_per_byte(format);
  const auto shift = static_cast<unsigned>((j % per_byte) * bits);
  return static_cast<std::uint8_t>((row[j / per_byte] >> shift) & ((1u << bits) - 1u));
}

// Packs one row of `dim` >= 1 finite float32 values (int4: dim even, int2: a multiple of 4, as
// PyTorch requires; the caller checks that, and that lo and the scale fit float16) into
// quantized_row_bytes(format, dim) bytes at `out`.
inline void quantize_row(const float* x, std::int64_t dim, QuantizedFormat format,
                         std::uint8_t* out) {
  float lo = x[0];
  float hi = x[0];
  for (std::int64_t j = 1; j < dim; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  const std::int64_t code_bytes = quantized_code_bytes(format, dim);
  if (format == QuantizedFormat::Int8) {
    const float range = hi - lo;
    const float scale = range / 255.0f;
    const float inverse = 255.0f / (range + 1e-8f);
    for (std::int64_t j = 0; j < dim; ++j) {
      out[j] = static_cast<std::uint8_t>(std::lrint((x[j] - lo) * inverse));
    }
    std::memcpy(out + code_bytes, &scale, sizeof scale);
    std::memcpy(out + code_bytes + 4, &lo, sizeof lo);
    return;
  }
  const int bits = quantized_bits(format);
  const int top = (1 << bits) - 1;
  const Half bias = from_f32<Half>(lo);
  const float bias_f = to_f32(bias);
  const float range = hi - bias_f;
  Half scale = from_f32<Half>(range == 0.0f ? 1.0f : range / static_cast<float>(top));
  float inverse = to_f32(scale) == 0.0f ? 1.0f : 1.0f / to_f32(scale);
  if (to_f32(scale) == 0.0f || std::isinf(inverse)) {
    scale = from_f32<Half>(1.0f);
    inverse = 1.0f;
  }
  std::memset(out, 0, static_cast<std::size_t>(code_bytes));
  const std::int64_t per_byte = quantized_codes_per_byte(format);
  for (std::int64_t j = 0; j < dim; ++j) {
    long code = std::lrint((x[j] - bias_f) * inverse);
    code = code < 0 ? 0 : (code > top ? top : code);
    out[j / per_byte] = static_cast<std::uint8_t>(
        out[j / per_byte] | (static_cast<unsigned>(code) << ((j % per_byte) * bits)));
  }
  std::memcpy(out + code_bytes, &scale.bits, 2);
  std::memcpy(out + code_bytes + 2, &bias.bits, 2);
}

// out[r] = the values of packed rows [r0, r1) (rows of row_bytes bytes), code * scale + bias.
inline void dequantize_rows(const std::uint8_t* table, std::int64_t row_bytes, std::int64_t dim,
                            QuantizedFormat format, std::int64_t r0, std::int64_t r1, float* out) {
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::uint8_t* row = table + r * row_bytes;
    const float scale = quantized_scale(row, format, dim);
    const float bias = quantized_bias(row, format, dim);
    for (std::int64_t j = 0; j < dim; ++j) {
      const float product = static_cast<float>(quantized_code(row, format, j)) * scale;
      out[r * dim + j] = product + bias;
    }
  }
}

// out[b] ([num_bags, dim] float32) = the bag's sum (or mean) of its rows' values, computed as
// above; ids equal to padding_idx (< 0: none) are left out (and not counted by mean); an empty
// bag gives zeros. Mean is the sum divided by the count, a true division (as the float bags'),
// and takes no per-sample weights. Bounds as in embedding_bag_ref.hpp.
template <class I>
void quantized_bag_forward(const std::uint8_t* table, std::int64_t row_bytes, std::int64_t dim,
                           QuantizedFormat format, const I* ids, const std::int64_t* bounds,
                           std::int64_t num_bags, BagMode mode, const float* per_sample_weights,
                           std::int64_t padding_idx, float* out) {
  std::vector<float> acc(static_cast<std::size_t>(dim));
  for (std::int64_t b = 0; b < num_bags; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    std::int64_t count = 0;
    for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
      const std::int64_t k = ids[i];
      if (k == padding_idx) continue;
      const std::uint8_t* row = table + k * row_bytes;
      const float w = per_sample_weights != nullptr ? per_sample_weights[i] : 1.0f;
      const float scale = w * quantized_scale(row, format, dim);
      const float bias = w * quantized_bias(row, format, dim);
      for (std::int64_t j = 0; j < dim; ++j) {
        const auto code = static_cast<float>(quantized_code(row, format, j));
        acc[static_cast<std::size_t>(j)] =
            std::fma(scale, code, acc[static_cast<std::size_t>(j)] + bias);
      }
      ++count;
    }
    if (mode == BagMode::Mean && count > 0) {
      for (float& a : acc) a = a / static_cast<float>(count);
    }
    std::copy(acc.begin(), acc.end(), out + b * dim);
  }
}

}  // namespace embedkit::kernels::ref
