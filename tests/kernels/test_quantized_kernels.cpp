// kernels::cpu (quantized_cpu.hpp) against its ref twin (ref/quantized_ref.hpp), bit for bit,
// under every instruction set the CPU has and several thread counts: bags of int8, int4 and
// int2 rows (sum and mean, per-sample weights, padding), at widths around every vector and
// register-block boundary, many ids and rows much wider than a pass; quantizing and
// dequantizing whole tables on threads.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/core/quantized_format.hpp"
#include "kernel_test_support.hpp"
#include "kernels/cpu/quantized_cpu.hpp"
#include "kernels/ref/quantized_ref.hpp"

namespace embedkit::kernels::test {
namespace {

// Widths per format (int4: even, int2: multiples of 4, as the formats require): 1 and 2
// vectors +- one element, the register blocks of each level (AVX2: 64, AVX-512: 256 columns)
// +- one vector, and rows wider than one pass.
std::vector<std::int64_t> dims_for(QuantizedFormat format) {
  switch (format) {
    case QuantizedFormat::Int8:
      return {1, 3, 7, 8, 9, 15, 16, 17, 33, 64, 72, 100, 128, 240, 256, 264, 257, 300, 1000};
    case QuantizedFormat::Int4:
      return {2, 6, 8, 10, 14, 16, 18, 34, 64, 72, 100, 128, 240, 256, 258, 264, 512, 1002};
    case QuantizedFormat::Int2:
      return {4, 8, 12, 16, 20, 36, 64, 100, 128, 256, 260, 1000};
  }
  return {};
}

const QuantizedFormat kFormats[] = {QuantizedFormat::Int8, QuantizedFormat::Int4,
                                    QuantizedFormat::Int2};

// `rows` packed rows of `dim` elements: random normal rows (one constant, one wide-ranged)
// quantized by ref, so that every code value and realistic scales occur.
std::vector<std::uint8_t> packed_table(std::int64_t rows, std::int64_t dim, QuantizedFormat format,
                                       std::uint64_t seed) {
  const std::int64_t row_bytes = quantized_row_bytes(format, dim);
  std::vector<std::uint8_t> table(static_cast<std::size_t>(rows * row_bytes));
  std::vector<float> values = random_values<float>(rows * dim, seed);
  for (std::int64_t j = 0; j < dim; ++j) values[static_cast<std::size_t>(j)] = 0.25f;
  if (rows > 1) {
    for (std::int64_t j = 0; j < dim; ++j) values[static_cast<std::size_t>(dim + j)] *= 300.0f;
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    ref::quantize_row(values.data() + r * dim, dim, format, table.data() + r * row_bytes);
  }
  return table;
}

struct Layout {
  std::string name;
  std::vector<std::int64_t> bounds;
};

std::vector<Layout> layouts(std::uint64_t seed) {
  std::vector<Layout> l;
  l.push_back({"no bags", {0}});
  l.push_back({"one empty bag", {0, 0}});
  std::vector<std::int64_t> ones(1001);
  for (std::size_t b = 0; b < ones.size(); ++b) ones[b] = static_cast<std::int64_t>(b);
  l.push_back({"bags of exactly 1", ones});
  l.push_back({"bags up to 20", random_bounds(40, 20, seed + 1)});
  l.push_back({"bags up to 100", random_bounds(12, 100, seed + 2)});
  std::vector<std::int64_t> big(1201);  // many ids: several threads, prefetching
  for (std::size_t b = 1; b < big.size(); ++b)
    big[b] = big[b - 1] + static_cast<std::int64_t>(b % 23);
  l.push_back({"many bags", big});
  return l;
}

using QuantizedBagKernels = KernelTest;

TEST_P(QuantizedBagKernels, ForwardMatchesRef) {
  for (QuantizedFormat format : kFormats) {
    for (std::int64_t dim : dims_for(format)) {
      const std::int64_t rows = 60;
      const std::int64_t row_bytes = quantized_row_bytes(format, dim);
      const auto table = packed_table(rows, dim, format, static_cast<std::uint64_t>(dim));
      for (const Layout& layout : layouts(static_cast<std::uint64_t>(dim))) {
        // Large layouts only at a few widths (the test's time goes there).
        if (layout.bounds.back() > 2000 && dim % 64 != 0 && dim != 1000 && dim != 1002) continue;
        const std::int64_t num_bags = static_cast<std::int64_t>(layout.bounds.size()) - 1;
        const std::int64_t n = layout.bounds.back();
        const auto ids32 = random_ids<std::int32_t>(n, rows, 6 + static_cast<std::uint64_t>(n));
        std::vector<std::int64_t> ids64(ids32.begin(), ids32.end());
        for (std::size_t k = 0; k < ids64.size(); k += 5) ids64[k] = 1;  // hot row
        const auto psw = random_values<float>(n, 8);
        for (BagMode mode : {BagMode::Sum, BagMode::Mean}) {
          for (bool weighted : {false, true}) {
            if (weighted && mode == BagMode::Mean) continue;
            for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{1}}) {
              SCOPED_TRACE(quantized_format_name(format) + " dim " + std::to_string(dim) + " " +
                           layout.name + " " + bag_mode_name(mode) + (weighted ? " weighted" : "") +
                           " padding " + std::to_string(padding));
              const float* p = weighted ? psw.data() : nullptr;
              std::vector<float> expected(static_cast<std::size_t>(num_bags * dim));
              std::vector<float> actual(expected.size(), 42.0f);
              ref::quantized_bag_forward(table.data(), row_bytes, dim, format, ids64.data(),
                                         layout.bounds.data(), num_bags, mode, p, padding,
                                         expected.data());
              // A huge row count turns prefetching on, the true one (a small table) off.
              cpu::quantized_bag_forward(table.data(), row_bytes, dim, format, ids64.data(),
                                         layout.bounds.data(), num_bags, mode, p, padding,
                                         actual.data(), padding < 0 ? rows : std::int64_t{1} << 40);
              EXPECT_TRUE(bitwise_equal(expected, actual));
              // int32 ids
              std::vector<std::int32_t> ids(ids64.begin(), ids64.end());
              std::vector<float> actual32(expected.size(), 7.0f);
              cpu::quantized_bag_forward(table.data(), row_bytes, dim, format, ids.data(),
                                         layout.bounds.data(), num_bags, mode, p, padding,
                                         actual32.data(), rows);
              EXPECT_TRUE(bitwise_equal(expected, actual32));
            }
          }
        }
      }
    }
  }
}

// Every code value of every nibble and crumb position lands in its column: rows whose codes
// count up (code j = j mod 2^bits), scale 1 and bias 0, looked up one by one.
TEST_P(QuantizedBagKernels, CodesLandInTheirColumns) {
  for (QuantizedFormat format : kFormats) {
    const int bits = quantized_bits(format);
    for (std::int64_t dim : dims_for(format)) {
      SCOPED_TRACE(quantized_format_name(format) + " dim " + std::to_string(dim));
      std::vector<float> row(static_cast<std::size_t>(dim));
      for (std::int64_t j = 0; j < dim; ++j) {
        row[static_cast<std::size_t>(j)] = static_cast<float>(j % (1 << bits));
      }
      row[0] = 0.0f;
      if (dim > 1) row[static_cast<std::size_t>(dim - 1)] = static_cast<float>((1 << bits) - 1);
      std::vector<std::uint8_t> packed(static_cast<std::size_t>(quantized_row_bytes(format, dim)));
      ref::quantize_row(row.data(), dim, format, packed.data());
      const std::vector<std::int64_t> ids = {0};
      const std::vector<std::int64_t> bounds = {0, 1};
      std::vector<float> out(static_cast<std::size_t>(dim));
      cpu::quantized_bag_forward(packed.data(), static_cast<std::int64_t>(packed.size()), dim,
                                 format, ids.data(), bounds.data(), 1, BagMode::Sum, nullptr, -1,
                                 out.data(), 1);
      std::vector<float> expected(out.size());
      ref::quantized_bag_forward(packed.data(), static_cast<std::int64_t>(packed.size()), dim,
                                 format, ids.data(), bounds.data(), 1, BagMode::Sum, nullptr, -1,
                                 expected.data());
      EXPECT_TRUE(bitwise_equal(expected, out));
      if (dim > 1) {  // range 2^bits - 1 over 2^bits - 1 steps: scale 1, codes = the values
        for (std::int64_t j = 0; j < dim; ++j) {
          EXPECT_EQ(ref::quantized_code(packed.data(), format, j),
                    static_cast<std::uint8_t>(row[static_cast<std::size_t>(j)]))
              << "column " << j;
        }
      }
    }
  }
}

TEST_P(QuantizedBagKernels, QuantizeAndDequantizeMatchRef) {
  for (QuantizedFormat format : kFormats) {
    for (std::int64_t dim : {std::int64_t{4}, std::int64_t{128}, std::int64_t{1000}}) {
      const std::int64_t rows = dim == 1000 ? 600 : 3000;  // enough bytes for several threads
      SCOPED_TRACE(quantized_format_name(format) + " dim " + std::to_string(dim));
      const std::int64_t row_bytes = quantized_row_bytes(format, dim);
      const auto values = random_values<float>(rows * dim, 11);
      std::vector<std::uint8_t> expected(static_cast<std::size_t>(rows * row_bytes));
      for (std::int64_t r = 0; r < rows; ++r) {
        ref::quantize_row(values.data() + r * dim, dim, format, expected.data() + r * row_bytes);
      }
      std::vector<std::uint8_t> actual(expected.size(), 0xbe);
      cpu::quantize_rows(values.data(), rows, dim, format, actual.data());
      EXPECT_EQ(expected, actual);
      // float16 and bfloat16 tables: widened exactly, then the same.
      const auto halves = random_values<Half>(rows * dim, 12);
      std::vector<float> widened(halves.size());
      for (std::size_t e = 0; e < halves.size(); ++e) widened[e] = to_f32(halves[e]);
      std::vector<std::uint8_t> from_half(expected.size()), from_widened(expected.size());
      cpu::quantize_rows(halves.data(), rows, dim, format, from_half.data());
      cpu::quantize_rows(widened.data(), rows, dim, format, from_widened.data());
      EXPECT_EQ(from_widened, from_half);
      const auto bf = random_values<BFloat16>(rows * dim, 13);
      for (std::size_t e = 0; e < bf.size(); ++e) widened[e] = to_f32(bf[e]);
      cpu::quantize_rows(bf.data(), rows, dim, format, from_half.data());
      cpu::quantize_rows(widened.data(), rows, dim, format, from_widened.data());
      EXPECT_EQ(from_widened, from_half);

      std::vector<float> deq_expected(static_cast<std::size_t>(rows * dim));
      std::vector<float> deq_actual(deq_expected.size(), 42.0f);
      ref::dequantize_rows(expected.data(), row_bytes, dim, format, 0, rows, deq_expected.data());
      cpu::dequantize_rows(expected.data(), row_bytes, dim, format, rows, deq_actual.data());
      EXPECT_TRUE(bitwise_equal(deq_expected, deq_actual));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllLevels, QuantizedBagKernels, ::testing::ValuesIn(all_configs()),
                         config_name);

}  // namespace
}  // namespace embedkit::kernels::test
