// Row-wise quantized tables (nn/quantized_table.hpp) and the lookups and bags on them
// (nn/quantized_embedding_bag.hpp): the byte layout, the bags against EmbeddingBag where the
// quantized values are exact, the stated accuracy, and every refusal. The comparison with
// PyTorch's own quantized ops is in tests/torch/test_quantized_diff.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/quantized_embedding_bag.hpp"
#include "embedkit/nn/quantized_table.hpp"

namespace embedkit::nn {
namespace {

Tensor ids64(std::vector<std::int64_t> v, std::optional<Shape> shape = std::nullopt) {
  return Tensor::from_vector(v, shape);
}

std::vector<std::uint8_t> bytes_of(const QuantizedTable& t) {
  return std::vector<std::uint8_t>(t.data(), t.data() + t.size_bytes());
}

// The message of what f throws as E; fails the test if it throws nothing or something else.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

Tensor random_table(std::int64_t rows, std::int64_t dim, std::uint64_t seed, float sd = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, sd);
  std::vector<float> v(static_cast<std::size_t>(rows * dim));
  for (float& x : v) x = normal(rng);
  return Tensor::from_vector(v, Shape{rows, dim});
}

// The example of PyTorch's own prepack documentation (qembeddingbag_prepack.cpp): rows
// [10, 20], [30, 40], [50, 60], [70, 80] pack to codes 0, 255, the scale 10/255 as the bytes
// 161 160 32 61, and the bias (the row's minimum) as a little-endian float32.
TEST(QuantizedTable, Int8LayoutIsPyTorchsDocumentedOne) {
  Tensor w = Tensor::from_vector<float>({10, 20, 30, 40, 50, 60, 70, 80}, Shape{4, 2});
  QuantizedTable t = quantize(w, QuantizedFormat::Int8);
  EXPECT_EQ(t.row_bytes(), 10);
  EXPECT_EQ(t.embedding_dim(), 2);
  EXPECT_EQ(t.num_embeddings(), 4);
  const std::vector<std::uint8_t> b = bytes_of(t);
  ASSERT_EQ(b.size(), 40u);
  const float mins[] = {10, 30, 50, 70};
  for (int r = 0; r < 4; ++r) {
    const std::uint8_t* row = b.data() + r * 10;
    EXPECT_EQ(row[0], 0);
    EXPECT_EQ(row[1], 255);
    EXPECT_EQ((std::vector<std::uint8_t>(row + 2, row + 6)),
              (std::vector<std::uint8_t>{161, 160, 32, 61}));
    float bias = 0;
    std::memcpy(&bias, row + 6, 4);
    EXPECT_EQ(bias, mins[r]);
    EXPECT_EQ(t.bias(r), mins[r]);
  }
}

// 4-bit: element j in byte j / 2, the first of each pair in the low nibble; then float16 scale
// and bias. Row 0..15: bias 0, scale (15 - 0) / 15 = 1 (0x3c00), codes 0..15.
TEST(QuantizedTable, Int4AndInt2LayoutsLowBitsFirst) {
  std::vector<float> v(16);
  for (int j = 0; j < 16; ++j) v[static_cast<std::size_t>(j)] = static_cast<float>(j);
  QuantizedTable t4 = quantize(Tensor::from_vector(v, Shape{1, 16}), QuantizedFormat::Int4);
  EXPECT_EQ(bytes_of(t4), (std::vector<std::uint8_t>{0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                                     0x00, 0x3c, 0x00, 0x00}));
  // 2-bit: row 0, 1, 2, 3, 3, 2, 1, 0 with bias 0 and scale 1: crumbs from the low bits.
  QuantizedTable t2 = quantize(Tensor::from_vector<float>({0, 1, 2, 3, 3, 2, 1, 0}, Shape{1, 8}),
                               QuantizedFormat::Int2);
  EXPECT_EQ(bytes_of(t2),
            (std::vector<std::uint8_t>{0b11100100, 0b00011011, 0x00, 0x3c, 0x00, 0x00}));
  EXPECT_EQ(t2.scale(0), 1.0f);
}

// Half-way codes round to even (lrint), as PyTorch's: a row 0, 0.5, 1.5, 2.5, 255 has scale 1
// and codes 0, 0, 2, 2, 255.
TEST(QuantizedTable, Int8CodesRoundHalfToEven) {
  QuantizedTable t = quantize(Tensor::from_vector<float>({0, 0.5f, 1.5f, 2.5f, 255}, Shape{1, 5}),
                              QuantizedFormat::Int8);
  const auto b = bytes_of(t);
  EXPECT_EQ((std::vector<std::uint8_t>(b.begin(), b.begin() + 5)),
            (std::vector<std::uint8_t>{0, 0, 2, 2, 255}));
}

TEST(QuantizedTable, FromPackedLoadsQuantizedBytesAndInfersDim) {
  const Tensor w = random_table(7, 12, 1);
  for (QuantizedFormat f : {QuantizedFormat::Int8, QuantizedFormat::Int4, QuantizedFormat::Int2}) {
    SCOPED_TRACE(quantized_format_name(f));
    QuantizedTable q = quantize(w, f);
    QuantizedTable copy =
        QuantizedTable::from_packed(q.data(), q.size_bytes(), 7, q.row_bytes(), f);
    EXPECT_EQ(copy.embedding_dim(), 12);
    EXPECT_EQ(bytes_of(copy), bytes_of(q));
    EXPECT_NE(copy.data(), q.data());
    QuantizedTable view =
        QuantizedTable::from_blob(q.data(), q.size_bytes(), 7, q.row_bytes(), f, 12);
    EXPECT_EQ(view.data(), q.data());  // zero copy
    const Tensor ids = ids64({6, 0, 3});
    EXPECT_EQ(functional::quantized_embedding(ids, view).to_float_vector(),
              functional::quantized_embedding(ids, q).to_float_vector());
  }
}

TEST(QuantizedTable, FromPackedRefusesMismatchedSizes) {
  std::vector<std::uint8_t> bytes(3 * 12, 0);
  auto load = [&](std::size_t size, std::int64_t rows, std::int64_t row_bytes, QuantizedFormat f,
                  std::optional<std::int64_t> dim = std::nullopt) {
    return message_of<ValueError>(
        [&] { (void)QuantizedTable::from_packed(bytes.data(), size, rows, row_bytes, f, dim); });
  };
  EXPECT_EQ(load(35, 3, 12, QuantizedFormat::Int8),
            "QuantizedTable.from_packed: 3 int8 rows of 12 bytes are 36 bytes, but 35 bytes were "
            "given (truncated)");
  EXPECT_EQ(load(36, 2, 12, QuantizedFormat::Int8),
            "QuantizedTable.from_packed: 2 int8 rows of 12 bytes are 24 bytes, but 36 bytes were "
            "given");
  EXPECT_EQ(load(36, 3, 12, QuantizedFormat::Int4, 7),
            "QuantizedTable.from_packed: int4 needs embedding_dim to be a multiple of 2 (as "
            "PyTorch's embedding_bag_4bit_prepack), got 7");
  EXPECT_EQ(load(36, 3, 12, QuantizedFormat::Int4, 10),
            "QuantizedTable.from_packed: int4 rows of embedding_dim 10 are 9 bytes, but the given "
            "rows are 12 bytes");
  EXPECT_EQ(load(36, 3, 12, QuantizedFormat::Int8, 3),
            "QuantizedTable.from_packed: int8 rows of embedding_dim 3 are 11 bytes, but the given "
            "rows are 12 bytes");
  EXPECT_EQ(load(36, 3, 12, QuantizedFormat::Int2, 6),
            "QuantizedTable.from_packed: int2 needs embedding_dim to be a multiple of 4 (as "
            "PyTorch's embedding_bag_2bit_prepack), got 6");
  EXPECT_EQ(load(8, 1, 8, QuantizedFormat::Int8),
            "QuantizedTable.from_packed: int8 rows are at least 9 bytes (codes, then the 8 bytes "
            "of scale and bias), got rows of 8");
  EXPECT_EQ(load(36, -3, 12, QuantizedFormat::Int8),
            "QuantizedTable.from_packed: num_rows must be >= 0, got -3");
  EXPECT_EQ(load(36, 3, 12, static_cast<QuantizedFormat>(3)),
            "QuantizedTable.from_packed: unknown quantized format 3 (int8, int4 or int2)");
  EXPECT_EQ(load(36, std::int64_t{1} << 60, 4096, QuantizedFormat::Int8),
            "QuantizedTable.from_packed: 1152921504606846976 rows of 4096 bytes overflow the "
            "address space");
  EXPECT_EQ(message_of<ValueError>([&] {
              (void)QuantizedTable::from_blob(nullptr, 12, 1, 12, QuantizedFormat::Int8);
            }),
            "QuantizedTable.from_blob: the data pointer is null");
  // An empty table is a table.
  QuantizedTable empty = QuantizedTable::from_packed(nullptr, 0, 0, 12, QuantizedFormat::Int8);
  EXPECT_TRUE(empty.defined());
  EXPECT_EQ(functional::quantized_embedding_bag(ids64({}), empty, ids64({0})).shape(),
            (Shape{1, 4}));
}

TEST(QuantizedTable, QuantizeRefusesWhatItCannotStore) {
  auto q = [](const Tensor& w, QuantizedFormat f) {
    return message_of<ValueError>([&] { (void)quantize(w, f); });
  };
  EXPECT_EQ(
      q(Tensor::from_vector<float>({1, std::nanf(""), 2}, Shape{1, 3}), QuantizedFormat::Int8),
      "quantize: weight[0][1] is nan; only finite values can be quantized");
  EXPECT_EQ(q(Tensor::from_vector<float>({1, 2, -INFINITY, 4}, Shape{2, 2}), QuantizedFormat::Int4),
            "quantize: weight[1][0] is -inf; only finite values can be quantized");
  EXPECT_EQ(q(Tensor::from_vector<float>({-3e38f, 3e38f}, Shape{1, 2}), QuantizedFormat::Int8),
            "quantize: row 0 spans more than float32 can hold (max - min overflows), so it has "
            "no int8 scale");
  EXPECT_EQ(q(Tensor::from_vector<float>({0, 1, -70000, 2}, Shape{2, 2}), QuantizedFormat::Int4),
            "quantize: row 1 (min -70000.0, max 2.0) does not fit int4's float16 scale and bias "
            "(|values| up to 65504.0)");
  EXPECT_EQ(q(Tensor::from_vector<float>({0, 2e6f}, Shape{1, 2}), QuantizedFormat::Int4),
            "quantize: row 0 (min 0.0, max 2e+06) does not fit int4's float16 scale and bias "
            "(|values| up to 65504.0)");
  EXPECT_EQ(q(Tensor::from_vector<float>({1, 2, 3}, Shape{1, 3}), QuantizedFormat::Int4),
            "quantize: int4 needs embedding_dim to be a multiple of 2 (as PyTorch's "
            "embedding_bag_4bit_prepack), got 3");
  EXPECT_EQ(q(Tensor::empty({3, 0}), QuantizedFormat::Int8),
            "quantize: int8 rows need embedding_dim >= 1, got 0");
  EXPECT_EQ(q(Tensor::from_vector<float>({1, 2}), QuantizedFormat::Int8),
            "quantize: the table (weight) must be 2-D, got shape [2]");
  EXPECT_THROW((void)quantize(ids64({1, 2}, Shape{1, 2}), QuantizedFormat::Int8), TypeError);
  // int8 takes any finite row: its scale and bias are float32.
  EXPECT_NO_THROW(
      (void)quantize(Tensor::from_vector<float>({0, 1e30f}, Shape{1, 2}), QuantizedFormat::Int8));
  // A constant row (range 0): every code 0, scale 1 for the 16-bit formats, values back.
  for (QuantizedFormat f : {QuantizedFormat::Int8, QuantizedFormat::Int4, QuantizedFormat::Int2}) {
    QuantizedTable t =
        quantize(Tensor::from_vector<float>({0.5f, 0.5f, 0.5f, 0.5f}, Shape{1, 4}), f);
    EXPECT_EQ(dequantize(t).to_float_vector(), (std::vector<float>(4, 0.5f)));
  }
}

// Rows whose quantized values are exact (integers 0..255 in every row with both ends present,
// so scale 1 and bias 0): every bag equals EmbeddingBag's over the same float table, in every
// mode and input form.
TEST(QuantizedEmbeddingBag, ExactRowsEqualEmbeddingBag) {
  const std::int64_t rows = 9;
  const std::int64_t dim = 20;
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> code(0, 255);
  std::vector<float> v(static_cast<std::size_t>(rows * dim));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < dim; ++j) {
      v[static_cast<std::size_t>(r * dim + j)] = static_cast<float>(j == 0   ? 0
                                                                    : j == 1 ? 255
                                                                             : code(rng));
    }
  }
  Tensor w = Tensor::from_vector(v, Shape{rows, dim});
  QuantizedTable q = quantize(w, QuantizedFormat::Int8);
  EXPECT_EQ(dequantize(q).to_float_vector(), v);
  const Tensor ids = ids64({3, 1, 1, 8, 4, 0, 2, 2, 7});
  const Tensor offsets = ids64({0, 0, 3, 3, 6});
  const Tensor psw = Tensor::from_vector<float>({1, 2, 0.5f, -1, 0, 3, 1, 1, 4});
  for (BagMode mode : {BagMode::Sum, BagMode::Mean}) {
    for (std::optional<std::int64_t> pad :
         {std::optional<std::int64_t>{}, std::optional<std::int64_t>{1},
          std::optional<std::int64_t>{-1}}) {
      for (bool last : {false, true}) {
        SCOPED_TRACE(bag_mode_name(mode) + (pad ? " padding " + std::to_string(*pad) : "") +
                     (last ? " include_last_offset" : ""));
        const Tensor off = last ? ids64({0, 0, 3, 3, 6, 9}) : offsets;
        auto fo = EmbeddingBagFuncOptions().mode(mode).padding_idx(pad).include_last_offset(last);
        auto qo =
            QuantizedEmbeddingBagFuncOptions().mode(mode).padding_idx(pad).include_last_offset(
                last);
        EXPECT_EQ(functional::quantized_embedding_bag(ids, q, off, qo).to_float_vector(),
                  functional::embedding_bag(ids, w, off, fo).to_float_vector());
        if (mode == BagMode::Sum) {
          EXPECT_EQ(functional::quantized_embedding_bag(ids, q, off, qo, psw).to_float_vector(),
                    functional::embedding_bag(ids, w, off, fo, psw).to_float_vector());
        }
      }
    }
    // 2-D ids: each row a bag.
    const Tensor ids2 = ids64({1, 2, 3, 4, 5, 6}, Shape{2, 3});
    EXPECT_EQ(functional::quantized_embedding_bag(ids2, q, Tensor(),
                                                  QuantizedEmbeddingBagFuncOptions().mode(mode))
                  .to_float_vector(),
              functional::embedding_bag(ids2, w, Tensor(), EmbeddingBagFuncOptions().mode(mode))
                  .to_float_vector());
  }
  // The lookup: shape ids.shape + [D], each row the bag of one.
  const Tensor lookup = functional::quantized_embedding(ids64({2, 5, 0, 2}, Shape{2, 2}), q);
  EXPECT_EQ(lookup.shape(), (Shape{2, 2, dim}));
  const auto lv = lookup.to_float_vector();
  EXPECT_TRUE(std::equal(v.begin() + 2 * dim, v.begin() + 3 * dim, lv.begin()));
}

TEST(QuantizedEmbeddingBag, ModuleForwardsWithItsOptions) {
  const Tensor w = random_table(10, 8, 2);
  QuantizedEmbeddingBag bag = QuantizedEmbeddingBag::from_float(
      w, QuantizedFormat::Int4, QuantizedEmbeddingBagOptions().mode(BagMode::Mean).padding_idx(-1));
  EXPECT_EQ(bag.repr(),
            "QuantizedEmbeddingBag(num_embeddings=10, embedding_dim=8, format=int4, mode=mean, "
            "padding_idx=9)");
  EXPECT_EQ(*bag.options().padding_idx(), 9);
  EXPECT_TRUE(bag.named_parameters().empty());
  const Tensor ids = ids64({9, 1, 2, 9, 9});
  const Tensor offsets = ids64({0, 3});
  EXPECT_EQ(bag.forward(ids, offsets).to_float_vector(),
            functional::quantized_embedding_bag(
                ids, bag.table(), offsets,
                QuantizedEmbeddingBagFuncOptions().mode(BagMode::Mean).padding_idx(9))
                .to_float_vector());
  // The second bag holds only padding: zeros.
  const auto out = bag.forward(ids, offsets).to_float_vector();
  EXPECT_EQ(std::vector<float>(out.begin() + 8, out.end()), std::vector<float>(8, 0.0f));
  EXPECT_EQ(message_of<ValueError>([&] {
              QuantizedEmbeddingBag(bag.table(), QuantizedEmbeddingBagOptions().mode(BagMode::Max));
            }),
            "QuantizedEmbeddingBag: max mode is not supported on quantized tables (sum or mean)");
  EXPECT_EQ(message_of<ValueError>([&] {
              QuantizedEmbeddingBag(bag.table(), QuantizedEmbeddingBagOptions().padding_idx(10));
            }),
            "QuantizedEmbeddingBag: padding_idx must be within [-10, 10), got 10");
  EXPECT_THROW(QuantizedEmbeddingBag{QuantizedTable{}}, ValueError);
}

// The bag checks are EmbeddingBag's (src/nn/embedding_checks), named for this function, and
// nothing is computed before they pass.
TEST(QuantizedEmbeddingBag, RefusesBadInputWithEmbeddingBagsMessages) {
  const QuantizedTable q = quantize(random_table(5, 4, 3), QuantizedFormat::Int8);
  const Tensor ids = ids64({0, 1, 2, 3});
  auto bag = [&](const Tensor& i, const Tensor& off, QuantizedEmbeddingBagFuncOptions o = {},
                 const Tensor& psw = Tensor()) {
    return functional::quantized_embedding_bag(i, q, off, o, psw);
  };
  auto msg = [&](auto f) { return message_of<ValueError>(f); };
  const std::string who = "quantized_embedding_bag: ";
  EXPECT_EQ(msg([&] { bag(ids, ids64({1, 2})); }), who + "offsets[0] must be 0, got 1");
  EXPECT_EQ(msg([&] {
              bag(ids, ids64({0, 3, 2}));
            }),
            who + "offsets must be non-decreasing, but offsets[2] = 2 < offsets[1] = 3");
  EXPECT_EQ(msg([&] {
              bag(ids, ids64({0, 5}));
            }),
            who + "offsets[1] = 5 is past the end of the 4 ids");
  EXPECT_EQ(
      msg([&] {
        bag(ids, ids64({0, 2}), QuantizedEmbeddingBagFuncOptions().include_last_offset(true));
      }),
      who + "with include_last_offset the last offset must equal the number of ids (4), got 2");
  EXPECT_EQ(msg([&] { bag(ids, Tensor()); }), who + "1-D ids need offsets");
  EXPECT_EQ(msg([&] {
              bag(ids64({0, 1}, Shape{1, 2}), ids64({0}));
            }),
            who + "offsets must not be given with 2-D ids (each row of ids is a bag)");
  EXPECT_EQ(msg([&] {
              bag(ids, ids64({0}), QuantizedEmbeddingBagFuncOptions().mode(BagMode::Mean),
                  Tensor::from_vector<float>({1, 1, 1, 1}));
            }),
            who + "per_sample_weights are only supported with mode sum, not mean");
  EXPECT_EQ(msg([&] {
              bag(ids, ids64({0}), {}, Tensor::from_vector<float>({1, 1, 1}));
            }),
            who + "per_sample_weights must have the shape of ids [4], got [3]");
  EXPECT_THROW(
      bag(ids, ids64({0}), {}, Tensor::from_vector<float>({1, 1, 1, 1}).to(DType::Float16)),
      TypeError);
  EXPECT_EQ(
      msg([&] { bag(ids, ids64({0}), QuantizedEmbeddingBagFuncOptions().mode(BagMode::Max)); }),
      who + "max mode is not supported on quantized tables (sum or mean)");
  EXPECT_EQ(msg([&] { bag(ids, ids64({0}), QuantizedEmbeddingBagFuncOptions().padding_idx(5)); }),
            who + "padding_idx must be within [-5, 5), got 5");
  EXPECT_EQ(msg([&] {
              bag(ids, ids64({0}),
                  QuantizedEmbeddingBagFuncOptions().unknown_ids(UnknownIds::map_to_row(7)));
            }),
            who + "unknown ids are mapped to row 7, outside the table's [0, 5)");
  EXPECT_EQ(msg([&] { functional::quantized_embedding_bag(ids, QuantizedTable(), ids64({0})); }),
            who + "the table is undefined");
  EXPECT_THROW(bag(Tensor::from_vector<float>({0, 1}), ids64({0})), TypeError);
  // Ids out of range: IndexError naming the first, in bags and lookups.
  try {
    bag(ids64({0, 4, 5, -1}), ids64({0}));
    ADD_FAILURE() << "no IndexError";
  } catch (const IndexError& e) {
    EXPECT_EQ(e.position(), 2);
    EXPECT_EQ(e.value(), 5);
    EXPECT_EQ(std::string(e.what()),
              "ids: value 5 at position 2 is outside the valid range [0, 5)");
  }
  EXPECT_THROW(functional::quantized_embedding(ids64({-6}), q), IndexError);
  // The opt-in policies map them instead.
  const auto mapped = functional::quantized_embedding_bag(
      ids64({7}), q, ids64({0}),
      QuantizedEmbeddingBagFuncOptions().unknown_ids(UnknownIds::map_to_row(3)));
  EXPECT_EQ(mapped.to_float_vector(),
            functional::quantized_embedding(ids64({3}), q).to_float_vector());
}

// The stated accuracy (docs/quantization.md): over N(0, 1) tables at D = 128, every value a
// lookup returns is within half a quantization step (scale / 2) of the float value, plus, for
// the 16-bit-parameter formats, the float16 rounding of the bias (the row minimum) and of the
// scale (times the largest code). Prints the max and mean errors the doc quotes.
TEST(QuantizedAccuracy, LookupErrorWithinHalfAStep) {
  const std::int64_t rows = 2000;
  const std::int64_t dim = 128;
  const Tensor w = random_table(rows, dim, 42);
  const auto x = w.to_float_vector();
  std::vector<std::int64_t> all(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) all[static_cast<std::size_t>(r)] = r;
  const Tensor ids = Tensor::from_vector(all);
  for (QuantizedFormat f : {QuantizedFormat::Int8, QuantizedFormat::Int4, QuantizedFormat::Int2}) {
    const QuantizedTable q = quantize(w, f);
    const auto y = functional::quantized_embedding(ids, q).to_float_vector();
    const int top = (1 << quantized_bits(f)) - 1;
    double max_err = 0;
    double sum_err = 0;
    double max_ratio = 0;  // error / (scale / 2)
    double sum_step = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto begin = x.begin() + r * dim;
      const float lo = *std::min_element(begin, begin + dim);
      const float hi = *std::max_element(begin, begin + dim);
      const double scale = q.scale(r);
      const double bound = scale / 2 + std::abs(q.bias(r) - lo) +
                           top * std::abs(scale - (static_cast<double>(hi) - q.bias(r)) / top) +
                           4 * std::numeric_limits<float>::epsilon() * std::max(-lo, hi);
      sum_step += scale;
      for (std::int64_t j = 0; j < dim; ++j) {
        const auto e = static_cast<std::size_t>(r * dim + j);
        const double err = std::abs(static_cast<double>(y[e]) - x[e]);
        ASSERT_LE(err, bound) << quantized_format_name(f) << " row " << r << " column " << j;
        max_err = std::max(max_err, err);
        max_ratio = std::max(max_ratio, err / (scale / 2));
        sum_err += err;
      }
    }
    const double mean_err = sum_err / static_cast<double>(rows * dim);
    std::cout << std::setprecision(4) << "accuracy " << quantized_format_name(f)
              << " (N(0,1), D=128, 2000 rows): max abs error " << max_err << ", mean abs error "
              << mean_err << ", mean scale/2 " << sum_step / rows / 2 << ", max error / (scale/2) "
              << max_ratio << "\n";
    // The mean error of rounding to a uniform grid is about a quarter step.
    EXPECT_LT(mean_err, 0.3 * sum_step / rows);
  }
}

}  // namespace
}  // namespace embedkit::nn
