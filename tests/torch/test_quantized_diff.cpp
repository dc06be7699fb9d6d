// Row-wise quantized tables against PyTorch's own quantized ops, in the same process (LibTorch
// 1.13 as Debian builds it: without FBGEMM, so its ops run the reference paths of
// aten/src/ATen/native/quantized/cpu): quantized::embedding_bag_{byte,4bit,2bit}_prepack,
// ..._unpack and ..._rowwise_offsets, called through the dispatcher (ATen declares no C++
// function for them).
//
// Comparison policy (docs/quantization.md):
//  - bitwise: prepacked bytes (ours from the float table against PyTorch's), dequantized
//    tables (unpack), lookups (bags of one id) and sum bags, with and without per-sample
//    weights and include_last_offset, int32 and int64 ids; PyTorch's packed bytes load as is
//    (QuantizedTable::from_packed) and the lookups run on those bytes;
//  - mean bags, which PyTorch's quantized ops do not have: against PyTorch's sum divided by
//    the bag's size in float32, bitwise.
// PyTorch computes each step of a bag in double and rounds it to float, embedkit in float with
// one fma (kernels/ref/quantized_ref.hpp); they agree unless a double rounding lands exactly
// on a float tie, which these tests would report as a failure (none has been seen).
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "diff_support.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/nn/quantized_embedding_bag.hpp"
#include "embedkit/nn/quantized_table.hpp"
#include "kernels/cpu/isa.hpp"
#include "torch_oracle.hpp"

namespace embedkit_diff {
namespace {

using embedkit::BagMode;
using embedkit::QuantizedFormat;
using embedkit::nn::QuantizedEmbeddingBagFuncOptions;
using embedkit::nn::QuantizedTable;

const char* op_bits(QuantizedFormat f) {
  switch (f) {
    case QuantizedFormat::Int8:
      return "byte";
    case QuantizedFormat::Int4:
      return "4bit";
    case QuantizedFormat::Int2:
      return "2bit";
  }
  return "?";
}

at::Tensor torch_prepack(const at::Tensor& w, QuantizedFormat f) {
  const std::string name = std::string("quantized::embedding_bag_") + op_bits(f) + "_prepack";
  if (f == QuantizedFormat::Int8) {
    static auto op = c10::Dispatcher::singleton()
                         .findSchemaOrThrow(name.c_str(), "")
                         .typed<at::Tensor(const at::Tensor&)>();
    return op.call(w);
  }
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow(name.c_str(), "")
                .typed<at::Tensor(const at::Tensor&, bool, std::int64_t, double)>();
  return op.call(w, false, 200, 0.16);
}

at::Tensor torch_unpack(const at::Tensor& packed, QuantizedFormat f) {
  const std::string name = std::string("quantized::embedding_bag_") + op_bits(f) + "_unpack";
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow(name.c_str(), "")
                .typed<at::Tensor(const at::Tensor&)>();
  return op.call(packed);
}

at::Tensor torch_bag(const at::Tensor& packed, QuantizedFormat f, const at::Tensor& ids,
                     const at::Tensor& offsets, const std::optional<at::Tensor>& psw,
                     bool include_last_offset) {
  const std::string name =
      std::string("quantized::embedding_bag_") + op_bits(f) + "_rowwise_offsets";
  using Opt = c10::optional<at::Tensor>;
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow(name.c_str(), "")
                .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const Opt&, bool,
                                  std::int64_t, bool, const Opt&, const Opt&, bool)>();
  const Opt weights = psw ? Opt(*psw) : Opt();
  return op.call(packed, ids, Opt(offsets), false, 0, false, weights, Opt(), include_last_offset);
}

QuantizedTable load(const at::Tensor& packed, QuantizedFormat f) {
  return QuantizedTable::from_packed(packed.data_ptr<std::uint8_t>(),
                                     static_cast<std::size_t>(packed.numel()), packed.size(0),
                                     packed.size(1), f);
}

std::vector<std::uint8_t> bytes_of(const at::Tensor& packed) {
  const auto* p = packed.data_ptr<std::uint8_t>();
  return std::vector<std::uint8_t>(p, p + packed.numel());
}

std::vector<std::uint32_t> float_bits(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  std::vector<std::uint32_t> bits(static_cast<std::size_t>(c.numel()));
  std::memcpy(bits.data(), c.data_ptr<float>(), bits.size() * 4);
  return bits;
}

std::vector<std::uint32_t> float_bits(const Tensor& t) {
  std::vector<std::uint32_t> bits(static_cast<std::size_t>(t.numel()));
  std::memcpy(bits.data(), t.data<float>(), bits.size() * 4);
  return bits;
}

// The first differing element of two float tensors' bits, or "".
std::string first_difference(const std::vector<std::uint32_t>& a,
                             const std::vector<std::uint32_t>& b) {
  if (a.size() != b.size())
    return "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      float x = 0;
      float y = 0;
      std::memcpy(&x, &a[i], 4);
      std::memcpy(&y, &b[i], 4);
      return "element " + std::to_string(i) + ": " + std::to_string(x) + " vs " + std::to_string(y);
    }
  }
  return "";
}

const QuantizedFormat kFormats[] = {QuantizedFormat::Int8, QuantizedFormat::Int4,
                                    QuantizedFormat::Int2};

// A table of one of several value kinds that stress the rounding: N(0, 1); multiples of 1/4
// (codes at exact halves: ties); tiny and huge scales; constant rows; float16 input.
at::Tensor random_table(Rng& rng, std::int64_t rows, std::int64_t dim, int kind) {
  at::Tensor w = at::empty({rows, dim}, at::kFloat);
  float* p = w.data_ptr<float>();
  for (std::int64_t e = 0; e < rows * dim; ++e) {
    const double n = rng.normal();
    switch (kind) {
      case 0:
        p[e] = static_cast<float>(n);
        break;
      case 1:
        p[e] = static_cast<float>(rng.uniform_int(-8, 8)) / 4.0f;
        break;
      case 2:
        p[e] = static_cast<float>(n * 1e-3);
        break;
      case 3:
        p[e] = static_cast<float>(n * 1000.0);
        break;
      default:
        p[e] = static_cast<float>(rng.uniform_int(0, 255)) * 0.1f + 3.0f;
        break;
    }
  }
  if (rows > 1 && rng.bernoulli(0.5)) {
    for (std::int64_t j = 0; j < dim; ++j) p[j] = 0.3f;  // a constant row
  }
  return w;
}

std::int64_t random_dim(Rng& rng, QuantizedFormat f) {
  const std::int64_t per_byte = 8 / embedkit::quantized_bits(f);
  return per_byte * rng.uniform_int(1, 80 / per_byte);
}

TEST(QuantizedDiff, PrepackBytesAndUnpackEqualPyTorchs) {
  use_one_torch_thread();
  const std::uint64_t base = base_seed();
  for (int c = 0; c < case_count(200); ++c) {
    if (only_case() && *only_case() != c) continue;
    Rng rng(case_seed(base, 101, c));
    for (QuantizedFormat f : kFormats) {
      const std::int64_t rows = rng.uniform_int(1, 40);
      const std::int64_t dim = random_dim(rng, f);
      const int kind = static_cast<int>(rng.uniform_int(0, 4));
      const bool half_input = rng.bernoulli(0.25);
      at::Tensor w = random_table(rng, rows, dim, kind);
      if (half_input) w = w.to(at::kHalf);
      SCOPED_TRACE(embedkit::quantized_format_name(f) + " rows " + std::to_string(rows) + " dim " +
                   std::to_string(dim) + " kind " + std::to_string(kind) +
                   (half_input ? " float16" : "") + "; replay: " + replay_line(base, c));
      // LibTorch 1.13's byte prepack misreads float16 input (rows come out as garbage: its
      // path without FBGEMM reads the float16 buffer as float32; later versions widen it
      // first); embedkit widens it exactly, so it is compared with the prepack of the widened
      // table. The 4- and 2-bit prepacks widen float16 themselves.
      const bool widen = half_input && f == QuantizedFormat::Int8 && kTorch113;
      const at::Tensor packed = torch_prepack(widen ? w.to(at::kFloat) : w, f);
      const QuantizedTable ours = embedkit::nn::quantize(from_torch(w), f);
      ASSERT_EQ(ours.row_bytes(), packed.size(1));
      EXPECT_EQ(std::vector<std::uint8_t>(ours.data(), ours.data() + ours.size_bytes()),
                bytes_of(packed));
      EXPECT_EQ(first_difference(float_bits(torch_unpack(packed, f)),
                                 float_bits(embedkit::nn::dequantize(load(packed, f)))),
                "");
    }
  }
}

// Bags on PyTorch's packed bytes, loaded as is: sum (with and without per-sample weights and
// include_last_offset, int32 and int64 ids and offsets), lookups as bags of one, and mean
// against PyTorch's sum / size.
TEST(QuantizedDiff, BagsAndLookupsEqualPyTorchs) {
  use_one_torch_thread();
  const std::uint64_t base = base_seed();
  for (int c = 0; c < case_count(200); ++c) {
    if (only_case() && *only_case() != c) continue;
    Rng rng(case_seed(base, 102, c));
    for (QuantizedFormat f : kFormats) {
      const std::int64_t rows = rng.uniform_int(1, 30);
      const std::int64_t dim = random_dim(rng, f);
      const at::Tensor packed =
          torch_prepack(random_table(rng, rows, dim, static_cast<int>(rng.uniform_int(0, 4))), f);
      const QuantizedTable table = load(packed, f);
      // At least one bag: LibTorch 1.13 reads offsets[0] of empty offsets (a crash), so no
      // bags at all is tested in tests/nn only.
      const std::int64_t num_bags = rng.uniform_int(1, 12);
      std::vector<std::int64_t> offsets{0};
      for (std::int64_t b = 1; b < num_bags; ++b)
        offsets.push_back(offsets.back() + rng.uniform_int(0, 6));
      const std::int64_t n = offsets.back() + rng.uniform_int(0, 6);
      std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
      for (auto& id : ids) id = rng.uniform_int(0, rows - 1);
      const bool last = rng.bernoulli(0.3);
      std::vector<std::int64_t> off = offsets;
      if (last) off.push_back(n);
      const DType id_type = rng.bernoulli(0.5) ? DType::Int32 : DType::Int64;
      const bool weighted = rng.bernoulli(0.5);
      std::vector<float> w(static_cast<std::size_t>(n));
      for (auto& x : w) x = static_cast<float>(rng.normal());
      SCOPED_TRACE(embedkit::quantized_format_name(f) + " rows " + std::to_string(rows) + " dim " +
                   std::to_string(dim) + " ids " + join(ids) + " offsets " + join(off) +
                   (weighted ? " weighted" : "") + "; replay: " + replay_line(base, c));
      const Tensor e_ids = index_tensor(ids, {n}, id_type);
      const Tensor e_off = index_tensor(off, {static_cast<std::int64_t>(off.size())}, id_type);
      const Tensor e_psw = Tensor::from_vector(w);
      const at::Tensor t_psw = to_torch(e_psw);
      const at::Tensor expected =
          torch_bag(packed, f, to_torch(e_ids), to_torch(e_off),
                    weighted ? std::optional<at::Tensor>(t_psw) : std::nullopt, last);
      const Tensor actual = embedkit::nn::functional::quantized_embedding_bag(
          e_ids, table, e_off, QuantizedEmbeddingBagFuncOptions().include_last_offset(last),
          weighted ? e_psw : Tensor());
      EXPECT_EQ(first_difference(float_bits(expected), float_bits(actual)), "");

      // Mean: PyTorch's sum / size, in float32.
      if (!weighted) {
        at::Tensor sizes = at::empty({expected.size(0), 1}, at::kFloat);
        for (std::int64_t b = 0; b < expected.size(0); ++b) {
          const std::int64_t end = b + 1 < static_cast<std::int64_t>(off.size())
                                       ? off[static_cast<std::size_t>(b + 1)]
                                       : n;
          sizes[b][0] =
              static_cast<float>(std::max<std::int64_t>(end - off[static_cast<std::size_t>(b)], 1));
        }
        const Tensor mean = embedkit::nn::functional::quantized_embedding_bag(
            e_ids, table, e_off,
            QuantizedEmbeddingBagFuncOptions().include_last_offset(last).mode(BagMode::Mean));
        EXPECT_EQ(first_difference(float_bits(expected / sizes), float_bits(mean)), "");
      }
      // Lookups: bags of one id each (none: the same empty offsets).
      if (n == 0) continue;
      std::vector<std::int64_t> each(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) each[static_cast<std::size_t>(i)] = i;
      const at::Tensor rows_expected =
          torch_bag(packed, f, to_torch(e_ids), to_torch(index_tensor(each, {n}, id_type)),
                    std::nullopt, false);
      const Tensor rows_actual = embedkit::nn::functional::quantized_embedding(e_ids, table);
      EXPECT_EQ(first_difference(float_bits(rows_expected), float_bits(rows_actual)), "");
    }
  }
}

// Sizes that reach the fast kernels' threads, prefetching and every register block: a 20000-row
// table, D up to 520, 60000 ids in bags of up to 40, at every ISA level and 1 and 3 threads.
TEST(QuantizedDiff, LargeBagsEqualPyTorchsAtEveryLevel) {
  use_one_torch_thread();
  Rng rng(case_seed(base_seed(), 103, 0));
  const int saved = embedkit::get_num_threads();
  for (QuantizedFormat f : kFormats) {
    for (std::int64_t dim : {std::int64_t{128}, std::int64_t{520}, std::int64_t{36}}) {
      const std::int64_t rows = 20000;
      const at::Tensor packed = torch_prepack(random_table(rng, rows, dim, 0), f);
      const QuantizedTable table = load(packed, f);
      std::vector<std::int64_t> offsets{0};
      while (offsets.back() < 60000) offsets.push_back(offsets.back() + rng.uniform_int(0, 40));
      const std::int64_t n = offsets.back();
      offsets.pop_back();
      std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
      for (auto& id : ids) id = rng.uniform_int(0, rows - 1);
      std::vector<float> w(static_cast<std::size_t>(n));
      for (auto& x : w) x = static_cast<float>(rng.normal());
      const Tensor e_ids = index_tensor(ids, {n}, DType::Int64);
      const Tensor e_off =
          index_tensor(offsets, {static_cast<std::int64_t>(offsets.size())}, DType::Int64);
      const Tensor e_psw = Tensor::from_vector(w);
      for (bool weighted : {false, true}) {
        const at::Tensor expected =
            torch_bag(packed, f, to_torch(e_ids), to_torch(e_off),
                      weighted ? std::optional<at::Tensor>(to_torch(e_psw)) : std::nullopt, false);
        for (auto isa : {embedkit::kernels::cpu::Isa::Generic, embedkit::kernels::cpu::Isa::Avx2,
                         embedkit::kernels::cpu::Isa::Avx512}) {
          if (!embedkit::kernels::cpu::isa_supported(isa)) continue;
          embedkit::kernels::cpu::set_isa_override(isa);
          for (int threads : {1, 3}) {
            embedkit::set_num_threads(threads);
            SCOPED_TRACE(embedkit::quantized_format_name(f) + " dim " + std::to_string(dim) +
                         (weighted ? " weighted " : " ") +
                         std::string(embedkit::kernels::cpu::isa_name(isa)) + " threads " +
                         std::to_string(threads));
            const Tensor actual = embedkit::nn::functional::quantized_embedding_bag(
                e_ids, table, e_off, {}, weighted ? e_psw : Tensor());
            EXPECT_EQ(first_difference(float_bits(expected), float_bits(actual)), "");
          }
        }
      }
    }
  }
  embedkit::kernels::cpu::set_isa_override(std::nullopt);
  embedkit::set_num_threads(saved);
}

}  // namespace
}  // namespace embedkit_diff
