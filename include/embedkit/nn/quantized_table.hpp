// A row-wise quantized embedding table (int8, int4 or int2 codes with a scale and a bias per
// row), in FBGEMM's fused row-wise layouts, byte for byte as PyTorch's
// torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_prepack write them
// (core/quantized_format.hpp spells the layout). A table PyTorch or FBGEMM packed loads as is
// (from_packed), and a table quantize() packs is what PyTorch's prepack gives for the same
// float table, bit for bit. Lookups and bags on it: nn/quantized_embedding_bag.hpp.
//
// The bytes are read-only once wrapped: a copy of a QuantizedTable shares them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "embedkit/core/memory.hpp"
#include "embedkit/core/quantized_format.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::nn {

class QuantizedTable;
QuantizedTable quantize(const Tensor& weight, QuantizedFormat format, const MemoryOptions& memory);

using embedkit::quantized_format_name;
using embedkit::QuantizedFormat;

class QuantizedTable {
 public:
  // An undefined table (defined() is false).
  QuantizedTable() = default;

  // A copy of `num_rows` packed rows of `row_bytes` bytes each at `data` (`size_bytes` bytes in
  // all: PyTorch's packed [num_rows, row_bytes] uint8 tensor). Without embedding_dim, D is what
  // PyTorch infers from the row size: row_bytes - 8 (int8), (row_bytes - 4) * 2 (int4),
  // (row_bytes - 4) * 4 (int2); with it, the row size must be that of D. Throws ValueError when
  // the sizes do not agree (a truncated table, rows that do not match D, D < 1, an odd D for
  // int4 or one not a multiple of 4 for int2, as PyTorch's prepack refuses them). `memory`:
  // where the copy lives (huge pages for a large table read at random rows, core/memory.hpp).
  static QuantizedTable from_packed(const void* data, std::size_t size_bytes, std::int64_t num_rows,
                                    std::int64_t row_bytes, QuantizedFormat format,
                                    std::optional<std::int64_t> embedding_dim = std::nullopt,
                                    const MemoryOptions& memory = {});

  // from_packed over memory the caller owns (no copy), as Tensor::from_blob: it must outlive
  // every table that uses it and stay unchanged. The same checks.
  static QuantizedTable from_blob(const void* data, std::size_t size_bytes, std::int64_t num_rows,
                                  std::int64_t row_bytes, QuantizedFormat format,
                                  std::optional<std::int64_t> embedding_dim = std::nullopt);
  // The same over memory that `owner` keeps alive (released with the last table sharing it):
  // how a table mapped from a file (io::map_quantized_rows) is used without a copy.
  static QuantizedTable from_blob(const void* data, std::size_t size_bytes, std::int64_t num_rows,
                                  std::int64_t row_bytes, QuantizedFormat format,
                                  std::optional<std::int64_t> embedding_dim,
                                  std::shared_ptr<const void> owner);

  bool defined() const { return defined_; }
  QuantizedFormat format() const { return format_; }
  std::int64_t num_embeddings() const { return num_rows_; }
  std::int64_t embedding_dim() const { return dim_; }
  // Bytes of one packed row: quantized_row_bytes(format(), embedding_dim()).
  std::int64_t row_bytes() const { return row_bytes_; }
  // The packed rows, num_embeddings() * row_bytes() bytes.
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size_bytes() const { return size_bytes_; }
  // Row r's scale and bias (0 <= r < num_embeddings(); IndexError otherwise).
  float scale(std::int64_t r) const;
  float bias(std::int64_t r) const;

 private:
  friend QuantizedTable quantize(const Tensor& weight, QuantizedFormat format,
                                 const MemoryOptions& memory);
  static QuantizedTable checked(const void* data, std::size_t size_bytes, std::int64_t num_rows,
                                std::int64_t row_bytes, QuantizedFormat format,
                                std::optional<std::int64_t> embedding_dim, const char* who);

  std::shared_ptr<const std::uint8_t> data_;
  std::size_t size_bytes_ = 0;
  std::int64_t num_rows_ = 0;
  std::int64_t dim_ = 0;
  std::int64_t row_bytes_ = 0;
  QuantizedFormat format_ = QuantizedFormat::Int8;
  bool defined_ = false;
};

// Quantizes a 2-D float32, float16 or bfloat16 table row by row, as PyTorch's prepack does
// (kernels/ref/quantized_ref.hpp has the arithmetic): the same bytes. D must be >= 1, even for
// int4 and a multiple of 4 for int2 (PyTorch's rules); every value must be finite, and for int4
// and int2 each row's minimum and scale must fit float16 (PyTorch would store inf there).
// ValueError / TypeError otherwise, naming the first offending element or row. `memory`: where
// the packed table lives (huge pages for a large table read at random rows, core/memory.hpp).
QuantizedTable quantize(const Tensor& weight, QuantizedFormat format,
                        const MemoryOptions& memory = {});

// The float32 table [num_embeddings, embedding_dim] the codes stand for: code * scale + bias,
// the product rounded first, as PyTorch's embedding_bag_{byte,4bit,2bit}_unpack compute it.
// (A lookup computes fma(scale, code, bias) instead, as PyTorch's lookup ops do; the two may
// differ in the last bit: docs/quantization.md.)
Tensor dequantize(const QuantizedTable& table);

}  // namespace embedkit::nn
