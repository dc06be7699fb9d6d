#include "embedkit/nn/quantized_table.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "embedkit/core/error.hpp"
#include "embedkit/core/float_text.hpp"
#include "kernels/cpu/quantized_cpu.hpp"
#include "kernels/ref/quantized_ref.hpp"
#include "nn/embedding_checks.hpp"

namespace embedkit::nn {

namespace {

bool known_format(QuantizedFormat format) {
  return format == QuantizedFormat::Int8 || format == QuantizedFormat::Int4 ||
         format == QuantizedFormat::Int2;
}

// D >= 1, and the multiple PyTorch's prepack requires of int4 (2) and int2 (4).
void check_dim(std::int64_t dim, QuantizedFormat format, const std::string& who) {
  const std::string name = quantized_format_name(format);
  if (dim < 1) {
    throw ValueError(who + ": " + name + " rows need embedding_dim >= 1, got " +
                     std::to_string(dim));
  }
  const std::int64_t per_byte = quantized_codes_per_byte(format);
  if (dim % per_byte != 0) {
    throw ValueError(who + ": " + name + " needs embedding_dim to be a multiple of " +
                     std::to_string(per_byte) + " (as PyTorch's embedding_bag_" +
                     std::to_string(quantized_bits(format)) + "bit_prepack), got " +
                     std::to_string(dim));
  }
}

// The D PyTorch infers from a packed row of `row_bytes` bytes.
std::int64_t dim_from_row_bytes(std::int64_t row_bytes, QuantizedFormat format) {
  return (row_bytes - quantized_scale_bias_bytes(format)) * quantized_codes_per_byte(format);
}

template <class W>
void check_values(const W* w, std::int64_t rows, std::int64_t dim, QuantizedFormat format,
                  const std::string& who) {
  const float half_max = 65504.0f;
  for (std::int64_t r = 0; r < rows; ++r) {
    float lo = std::numeric_limits<float>::infinity();
    float hi = -lo;
    for (std::int64_t j = 0; j < dim; ++j) {
      const float x = to_f32(w[r * dim + j]);
      if (!std::isfinite(x)) {
        throw ValueError(who + ": weight[" + std::to_string(r) + "][" + std::to_string(j) +
                         "] is " + python_float_repr(x) + "; only finite values can be quantized");
      }
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
    const std::string row = "row " + std::to_string(r);
    if (format == QuantizedFormat::Int8) {
      if (!std::isfinite(hi - lo)) {
        throw ValueError(who + ": " + row + " spans more than float32 can hold (max - min " +
                         "overflows), so it has no int8 scale");
      }
      continue;
    }
    // The bias is float16(min) and the scale float16((max - bias) / (2^bits - 1)); either
    // rounding to infinity would make the row's values inf or NaN.
    const float bias = to_f32(from_f32<Half>(lo));
    const float step = (hi - bias) / static_cast<float>((1 << quantized_bits(format)) - 1);
    if (std::isinf(bias) || std::isinf(to_f32(from_f32<Half>(step)))) {
      throw ValueError(who + ": " + row + " (min " + python_float_repr(lo) + ", max " +
                       python_float_repr(hi) + ") does not fit " + quantized_format_name(format) +
                       "'s float16 scale and bias (|values| up to " + python_float_repr(half_max) +
                       ")");
    }
  }
}

}  // namespace

QuantizedTable QuantizedTable::checked(const void* data, std::size_t size_bytes,
                                       std::int64_t num_rows, std::int64_t row_bytes,
                                       QuantizedFormat format,
                                       std::optional<std::int64_t> embedding_dim,
                                       const char* who_c) {
  const std::string who = who_c;
  if (!known_format(format)) {
    throw ValueError(who + ": unknown quantized format " +
                     std::to_string(static_cast<int>(format)) + " (int8, int4 or int2)");
  }
  const std::string name = quantized_format_name(format);
  if (num_rows < 0) {
    throw ValueError(who + ": num_rows must be >= 0, got " + std::to_string(num_rows));
  }
  const std::int64_t min_row = quantized_row_bytes(format, quantized_codes_per_byte(format));
  if (row_bytes < min_row) {
    throw ValueError(who + ": " + name + " rows are at least " + std::to_string(min_row) +
                     " bytes (codes, then the " +
                     std::to_string(quantized_scale_bias_bytes(format)) +
                     " bytes of scale and bias), got rows of " + std::to_string(row_bytes));
  }
  const std::int64_t dim = embedding_dim.value_or(dim_from_row_bytes(row_bytes, format));
  check_dim(dim, format, who);
  if (quantized_row_bytes(format, dim) != row_bytes) {
    throw ValueError(who + ": " + name + " rows of embedding_dim " + std::to_string(dim) + " are " +
                     std::to_string(quantized_row_bytes(format, dim)) +
                     " bytes, but the given rows are " + std::to_string(row_bytes) + " bytes");
  }
  if (num_rows > 0 && row_bytes > std::numeric_limits<std::int64_t>::max() / num_rows) {
    throw ValueError(who + ": " + std::to_string(num_rows) + " rows of " +
                     std::to_string(row_bytes) + " bytes overflow the address space");
  }
  const auto expected = static_cast<std::uint64_t>(num_rows * row_bytes);
  if (static_cast<std::uint64_t>(size_bytes) != expected) {
    throw ValueError(who + ": " + std::to_string(num_rows) + " " + name + " rows of " +
                     std::to_string(row_bytes) + " bytes are " + std::to_string(expected) +
                     " bytes, but " + std::to_string(size_bytes) + " bytes were given" +
                     (static_cast<std::uint64_t>(size_bytes) < expected ? " (truncated)" : ""));
  }
  if (data == nullptr && size_bytes > 0) throw ValueError(who + ": the data pointer is null");
  QuantizedTable t;
  t.size_bytes_ = size_bytes;
  t.num_rows_ = num_rows;
  t.dim_ = dim;
  t.row_bytes_ = row_bytes;
  t.format_ = format;
  t.defined_ = true;
  return t;
}

QuantizedTable QuantizedTable::from_packed(const void* data, std::size_t size_bytes,
                                           std::int64_t num_rows, std::int64_t row_bytes,
                                           QuantizedFormat format,
                                           std::optional<std::int64_t> embedding_dim,
                                           const MemoryOptions& memory) {
  QuantizedTable t = checked(data, size_bytes, num_rows, row_bytes, format, embedding_dim,
                             "QuantizedTable.from_packed");
  std::shared_ptr<void> copy = allocate_buffer(size_bytes > 0 ? size_bytes : 1, memory);
  if (size_bytes > 0) std::memcpy(copy.get(), data, size_bytes);
  t.data_ = std::shared_ptr<const std::uint8_t>(copy, static_cast<std::uint8_t*>(copy.get()));
  return t;
}

QuantizedTable QuantizedTable::from_blob(const void* data, std::size_t size_bytes,
                                         std::int64_t num_rows, std::int64_t row_bytes,
                                         QuantizedFormat format,
                                         std::optional<std::int64_t> embedding_dim) {
  QuantizedTable t = checked(data, size_bytes, num_rows, row_bytes, format, embedding_dim,
                             "QuantizedTable.from_blob");
  t.data_ = std::shared_ptr<const std::uint8_t>(static_cast<const std::uint8_t*>(data),
                                                [](const std::uint8_t*) {});
  return t;
}

QuantizedTable QuantizedTable::from_blob(const void* data, std::size_t size_bytes,
                                         std::int64_t num_rows, std::int64_t row_bytes,
                                         QuantizedFormat format,
                                         std::optional<std::int64_t> embedding_dim,
                                         std::shared_ptr<const void> owner) {
  if (owner == nullptr)
    throw ValueError("QuantizedTable.from_blob: the owner of the memory is null");
  QuantizedTable t = checked(data, size_bytes, num_rows, row_bytes, format, embedding_dim,
                             "QuantizedTable.from_blob");
  // The aliasing constructor: the rows' address, the owner's lifetime.
  t.data_ =
      std::shared_ptr<const std::uint8_t>(std::move(owner), static_cast<const std::uint8_t*>(data));
  return t;
}

float QuantizedTable::scale(std::int64_t r) const {
  if (r < 0 || r >= num_rows_) throw IndexError("QuantizedTable.scale: row", 0, r, 0, num_rows_);
  return kernels::ref::quantized_scale(data() + r * row_bytes_, format_, dim_);
}

float QuantizedTable::bias(std::int64_t r) const {
  if (r < 0 || r >= num_rows_) throw IndexError("QuantizedTable.bias: row", 0, r, 0, num_rows_);
  return kernels::ref::quantized_bias(data() + r * row_bytes_, format_, dim_);
}

QuantizedTable quantize(const Tensor& weight, QuantizedFormat format, const MemoryOptions& memory) {
  const std::string who = "quantize";
  detail::check_table(weight.desc(), who);
  if (!known_format(format)) {
    throw ValueError(who + ": unknown quantized format " +
                     std::to_string(static_cast<int>(format)) + " (int8, int4 or int2)");
  }
  const std::int64_t rows = weight.size(0);
  const std::int64_t dim = weight.size(1);
  check_dim(dim, format, who);
  const std::int64_t row_bytes = quantized_row_bytes(format, dim);
  const auto size = static_cast<std::size_t>(rows * row_bytes);
  std::shared_ptr<void> buffer = allocate_buffer(size > 0 ? size : 1, memory);
  auto* bytes = static_cast<std::uint8_t*>(buffer.get());
  switch (weight.dtype()) {
    case DType::Float32:
      check_values(weight.data<float>(), rows, dim, format, who);
      kernels::cpu::quantize_rows(weight.data<float>(), rows, dim, format, bytes);
      break;
    case DType::Float16:
      check_values(weight.data<Half>(), rows, dim, format, who);
      kernels::cpu::quantize_rows(weight.data<Half>(), rows, dim, format, bytes);
      break;
    default:  // check_table admits only the three float types
      check_values(weight.data<BFloat16>(), rows, dim, format, who);
      kernels::cpu::quantize_rows(weight.data<BFloat16>(), rows, dim, format, bytes);
      break;
  }
  QuantizedTable t = QuantizedTable::checked(bytes, size, rows, row_bytes, format, dim, "quantize");
  t.data_ = std::shared_ptr<const std::uint8_t>(buffer, bytes);
  return t;
}

Tensor dequantize(const QuantizedTable& table) {
  if (!table.defined()) throw ValueError("dequantize: the table is undefined");
  Tensor out = Tensor::empty({table.num_embeddings(), table.embedding_dim()}, DType::Float32);
  kernels::cpu::dequantize_rows(table.data(), table.row_bytes(), table.embedding_dim(),
                                table.format(), table.num_embeddings(), out.data<float>());
  return out;
}

}  // namespace embedkit::nn
