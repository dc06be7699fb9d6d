// The row-wise quantized formats of a table, and the byte layout of one row: the one place that
// spells it, for the quantized table (nn/quantized_table.hpp) and the kernels below it.
//
// The layouts are FBGEMM's fused row-wise formats, byte for byte as PyTorch's
// torch.ops.quantized.embedding_bag_byte_prepack / embedding_bag_4bit_prepack /
// embedding_bag_2bit_prepack write them, so a table packed by PyTorch or FBGEMM loads as is:
//
//   int8: | D codes, uint8          | scale float32 | bias float32 |   D + 8 bytes
//   int4: | ceil(D / 2) bytes       | scale float16 | bias float16 |   D / 2 + 4 bytes
//   int2: | ceil(D / 4) bytes       | scale float16 | bias float16 |   D / 4 + 4 bytes
//
// Codes are unsigned. In the 4- and 2-bit formats element j sits in byte j / (8 / bits) at bit
// (j % (8 / bits)) * bits: the first element in the low bits. Scale and bias are little-endian.
// An element's value is bias + scale * code.
#pragma once

#include <cstdint>
#include <string>

namespace embedkit {

// The values are the bit widths; kernels compiled apart from their callers receive them.
enum class QuantizedFormat : int { Int8 = 8, Int4 = 4, Int2 = 2 };

constexpr int quantized_bits(QuantizedFormat format) {
  return static_cast<int>(format);
}

// "int8", "int4" or "int2".
inline std::string quantized_format_name(QuantizedFormat format) {
  switch (format) {
    case QuantizedFormat::Int8:
      return "int8";
    case QuantizedFormat::Int4:
      return "int4";
    case QuantizedFormat::Int2:
      return "int2";
  }
  return "?";
}

// Codes per byte: 1, 2 or 4.
constexpr std::int64_t quantized_codes_per_byte(QuantizedFormat format) {
  return 8 / quantized_bits(format);
}

// Bytes of the codes of a row of `dim` elements.
constexpr std::int64_t quantized_code_bytes(QuantizedFormat format, std::int64_t dim) {
  return (dim + quantized_codes_per_byte(format) - 1) / quantized_codes_per_byte(format);
}

// Bytes of the scale and bias after the codes: two float32 (int8) or two float16 (int4, int2).
constexpr std::int64_t quantized_scale_bias_bytes(QuantizedFormat format) {
  return format == QuantizedFormat::Int8 ? 8 : 4;
}

// Bytes of one packed row.
constexpr std::int64_t quantized_row_bytes(QuantizedFormat format, std::int64_t dim) {
  return quantized_code_bytes(format, dim) + quantized_scale_bias_bytes(format);
}

}  // namespace embedkit
