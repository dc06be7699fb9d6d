// fastText's .bin/.ftz format (io/fasttext_model.hpp): round trips, quantized matrices built by
// hand (independently of embedkit's writer), and every kind of bad input: each cut point,
// wrong magic and version, unknown enums, inconsistent counts and sizes that would allocate
// terabytes, each a clear IoError naming the file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "io/test_support.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::IoError;
using embedkit::Tensor;
using embedkit::ValueError;
using embedkit_io_test::message_of;
namespace io = embedkit::io;

// Little-endian bytes, built field by field as fastText writes them.
struct Bytes {
  std::vector<std::uint8_t> data;
  template <typename T>
  Bytes& put(T v) {
    std::uint8_t raw[sizeof(T)];
    std::memcpy(raw, &v, sizeof(T));
    data.insert(data.end(), raw, raw + sizeof(T));
    return *this;
  }
  Bytes& text(const std::string& s) {
    data.insert(data.end(), s.begin(), s.end());
    data.push_back(0);
    return *this;
  }
  std::size_t size() const { return data.size(); }
};

Tensor counting(std::int64_t rows, std::int64_t cols, float start) {
  Tensor t = Tensor::empty({rows, cols});
  for (std::int64_t i = 0; i < rows * cols; ++i) {
    t.data<float>()[i] = start + 0.25f * static_cast<float>(i);
  }
  return t;
}

// A small supervised model: 3 words, 2 labels, 4 buckets, dim 3.
io::FastTextModelFile small_supervised() {
  io::FastTextModelFile f;
  f.args.dim = 3;
  f.args.model = io::FastTextModelType::Supervised;
  f.args.loss = io::FastTextLoss::Softmax;
  f.args.word_ngrams = 2;
  f.args.bucket = 4;
  f.args.minn = 0;
  f.args.maxn = 0;
  f.dictionary.words = {{"</s>", 10}, {"good", 7}, {"bad", 3}};
  f.dictionary.labels = {{"__label__pos", 6}, {"__label__neg", 4}};
  f.dictionary.tokens = 30;
  f.input = counting(7, 3, -1.0f);
  f.output = counting(2, 3, 0.5f);
  return f;
}

void expect_same(const io::FastTextModelFile& a, const io::FastTextModelFile& b) {
  EXPECT_EQ(a.args.dim, b.args.dim);
  EXPECT_EQ(a.args.bucket, b.args.bucket);
  EXPECT_EQ(a.args.word_ngrams, b.args.word_ngrams);
  EXPECT_EQ(a.args.loss, b.args.loss);
  EXPECT_EQ(a.args.model, b.args.model);
  EXPECT_EQ(a.args.t, b.args.t);
  ASSERT_EQ(a.dictionary.words.size(), b.dictionary.words.size());
  for (std::size_t i = 0; i < a.dictionary.words.size(); ++i) {
    EXPECT_EQ(a.dictionary.words[i].text, b.dictionary.words[i].text);
    EXPECT_EQ(a.dictionary.words[i].count, b.dictionary.words[i].count);
  }
  ASSERT_EQ(a.dictionary.labels.size(), b.dictionary.labels.size());
  for (std::size_t i = 0; i < a.dictionary.labels.size(); ++i) {
    EXPECT_EQ(a.dictionary.labels[i].text, b.dictionary.labels[i].text);
  }
  EXPECT_EQ(a.dictionary.tokens, b.dictionary.tokens);
  EXPECT_EQ(a.input.to_float_vector(), b.input.to_float_vector());
  EXPECT_EQ(a.output.to_float_vector(), b.output.to_float_vector());
}

std::vector<std::uint8_t> as_bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

// Offsets of the sections of small_supervised()'s file.
constexpr std::size_t kArgsAt = 8;
constexpr std::size_t kDictAt = kArgsAt + 12 * 4 + 8;
constexpr std::size_t kEntriesAt = kDictAt + 3 * 4 + 2 * 8;

TEST(FastTextModelFormat, RoundTripsBitForBit) {
  const io::FastTextModelFile f = small_supervised();
  const std::string bytes = io::serialize_fasttext_model(f);
  const io::FastTextModelFile back = io::parse_fasttext_model(as_bytes(bytes));
  expect_same(f, back);
  EXPECT_FALSE(back.quantized_input);
  EXPECT_EQ(back.version, 12);
  EXPECT_EQ(io::serialize_fasttext_model(back), bytes);
  EXPECT_TRUE(io::has_fasttext_magic(as_bytes(bytes)));
}

TEST(FastTextModelFormat, SaveIsAtomicAndLoadNamesThePath) {
  embedkit_test::TempDir dir;
  const auto path = dir / "m.bin";
  io::save_fasttext_model(path, small_supervised());
  EXPECT_TRUE(io::file_has_fasttext_magic(path));
  expect_same(small_supervised(), io::load_fasttext_model(path));
  // A model the format cannot hold leaves the file as it was.
  io::FastTextModelFile bad = small_supervised();
  bad.dictionary.words[1].text = "two words";
  const std::string before = embedkit_test::read_file(path);
  EXPECT_CONTAINS(message_of<ValueError>([&] { io::save_fasttext_model(path, bad); }),
                  "'two words' holds whitespace");
  EXPECT_EQ(embedkit_test::read_file(path), before);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"m.bin"});
  // Cut files name the path.
  const auto cut = dir.write("cut.bin", before.substr(0, 30));
  const std::string msg = message_of<IoError>([&] { io::load_fasttext_model(cut); });
  EXPECT_EQ(msg.rfind(cut.string() + ": truncated", 0), 0u) << msg;
}

TEST(FastTextModelFormat, EveryCutPointIsATruncationError) {
  const std::string bytes = io::serialize_fasttext_model(small_supervised());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    const auto part = as_bytes(bytes.substr(0, cut));
    const std::string msg =
        message_of<IoError>([&] { io::parse_fasttext_model(part, "model.bin"); });
    EXPECT_EQ(msg.rfind("model.bin: truncated: the file ends inside ", 0), 0u)
        << "cut at " << cut << ": " << msg;
  }
  // The same through files, which are streamed rather than read whole.
  embedkit_test::TempDir dir;
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    const auto path = dir.write("cut.bin", bytes.substr(0, cut));
    const std::string msg = message_of<IoError>([&] { io::load_fasttext_model(path); });
    EXPECT_EQ(msg.rfind(path.string() + ": truncated: the file ends inside ", 0), 0u)
        << "cut at " << cut << ": " << msg;
  }
  // At each section boundary the message names the section the file ends in.
  const std::size_t entries_end =
      kEntriesAt + (4 + 1 + 9) + (4 + 1 + 9) + (3 + 1 + 9) + (12 + 1 + 9) + (12 + 1 + 9);
  const std::size_t input_at = entries_end + 1;
  const std::size_t output_flag_at = input_at + 16 + 7 * 3 * 4;
  const std::vector<std::pair<std::size_t, std::string>> sections = {
      {0, "the magic number"},
      {4, "the version"},
      {kArgsAt, "the arguments block"},
      {kDictAt, "the dictionary header"},
      {kEntriesAt, "the dictionary's entries (it says 5 entries"},
      {entries_end - 9, "dictionary entry 4 ('__label__neg')"},
      {entries_end, "the quantized-input flag"},
      {input_at, "the input matrix's header"},
      {input_at + 16, "the input matrix's values"},
      {output_flag_at, "the quantized-output flag"},
      {output_flag_at + 1, "the output matrix's header"},
      {output_flag_at + 17, "the output matrix's values"},
  };
  ASSERT_EQ(output_flag_at + 17 + 2 * 3 * 4, bytes.size());
  for (const auto& [cut, section] : sections) {
    const auto part = as_bytes(bytes.substr(0, cut));
    EXPECT_CONTAINS(message_of<IoError>([&] { io::parse_fasttext_model(part, "m"); }),
                    "ends inside " + section);
  }
}

// The bytes of small_supervised() with the int32 at `offset` replaced.
std::vector<std::uint8_t> with_int32(std::size_t offset, std::int32_t value) {
  auto b = as_bytes(io::serialize_fasttext_model(small_supervised()));
  std::memcpy(b.data() + offset, &value, 4);
  return b;
}
std::vector<std::uint8_t> with_int64(std::size_t offset, std::int64_t value) {
  auto b = as_bytes(io::serialize_fasttext_model(small_supervised()));
  std::memcpy(b.data() + offset, &value, 8);
  return b;
}

std::string parse_error(const std::vector<std::uint8_t>& b) {
  return message_of<IoError>([&] { io::parse_fasttext_model(b, "model.bin"); });
}

TEST(FastTextModelFormat, WrongMagicVersionAndEnumsAreRefused) {
  EXPECT_CONTAINS(parse_error(with_int32(0, 12345)),
                  "model.bin: not a fastText model: the magic number is 12345");
  EXPECT_CONTAINS(parse_error(with_int32(4, 13)), "fastText model version 13 is not supported");
  EXPECT_CONTAINS(parse_error(with_int32(4, 10)), "version 10 is not supported");
  EXPECT_CONTAINS(parse_error(with_int32(kArgsAt + 6 * 4, 9)), "unknown loss 9");
  EXPECT_CONTAINS(parse_error(with_int32(kArgsAt + 7 * 4, 0)), "unknown model 0");
  EXPECT_CONTAINS(parse_error(with_int32(kArgsAt, 0)), "dim is 0");
  // A word2vec binary file (also .bin) is not taken for a fastText model.
  const std::string w2v = "2 3\nab ";
  EXPECT_FALSE(io::has_fasttext_magic(as_bytes(w2v)));
}

TEST(FastTextModelFormat, HugeSizesAreRefusedBeforeAllocating) {
  constexpr std::int32_t kMax32 = std::numeric_limits<std::int32_t>::max();
  // A dimension of 2^31 - 1: the matrix header must agree, and then its values are not there.
  auto b = with_int32(kArgsAt, kMax32);
  EXPECT_CONTAINS(parse_error(b), "the input matrix is 7 x 3, expected 7 x 2147483647");
  // The matrix header itself claims 2^40 columns.
  const io::FastTextModelFile f = small_supervised();
  const std::size_t input_header =
      io::serialize_fasttext_model(f).size() - (16 + 7 * 12) - (1 + 16 + 2 * 12);
  EXPECT_CONTAINS(parse_error(with_int64(input_header + 8, std::int64_t{1} << 40)),
                  "expected 7 x 3");
  // Both the arguments and the matrix say 2^31 - 1 columns and 2^31 + 2 rows (a bucket that
  // large): the values would take 2^64 bytes; refused as not in the file.
  b = with_int32(kArgsAt, kMax32);
  std::memcpy(b.data() + kArgsAt + 8 * 4, &kMax32, 4);  // bucket
  const std::int64_t rows = std::int64_t{3} + kMax32;
  const std::int64_t cols = kMax32;
  std::memcpy(b.data() + input_header, &rows, 8);
  std::memcpy(b.data() + input_header + 8, &cols, 8);
  EXPECT_CONTAINS(parse_error(b), "truncated: the file ends inside the input matrix's values");
  // Dictionary counts.
  EXPECT_CONTAINS(parse_error(with_int32(kDictAt, kMax32)), "entries must be words + labels");
  b = with_int32(kDictAt, kMax32);
  const std::int32_t words = kMax32 - 2;
  std::memcpy(b.data() + kDictAt + 4, &words, 4);
  EXPECT_CONTAINS(parse_error(b), "more than the");
  EXPECT_CONTAINS(parse_error(with_int64(kDictAt + 12, -5)), "token count is negative");
  EXPECT_CONTAINS(
      parse_error(with_int64(kDictAt + 20, std::int64_t{1} << 60)),
      "ends inside the pruned buckets (it says 1152921504606846976 pruned buckets, more than");
  EXPECT_CONTAINS(parse_error(with_int64(kDictAt + 20, -2)), "pruneidx_size is below -1");
}

TEST(FastTextModelFormat, InconsistentContentsAreRefused) {
  // Entry 0's type (after "</s>\0" and its count) set to 2, then to "label" before the words.
  auto b = as_bytes(io::serialize_fasttext_model(small_supervised()));
  b[kEntriesAt + 5 + 8] = 2;
  EXPECT_CONTAINS(parse_error(b), "dictionary entry 0 ('</s>') has type 2");
  b[kEntriesAt + 5 + 8] = 1;
  EXPECT_CONTAINS(parse_error(b), "is a label, but the dictionary's first 3 entries");
  // Trailing bytes.
  b = as_bytes(io::serialize_fasttext_model(small_supervised()));
  b.push_back(0);
  EXPECT_CONTAINS(parse_error(b), "1 bytes follow the output matrix");
  // A boolean that is not 0 or 1.
  b = as_bytes(io::serialize_fasttext_model(small_supervised()));
  const std::size_t flag = b.size() - (16 + 7 * 12) - (1 + 16 + 2 * 12) - 1;
  b[flag] = 7;
  EXPECT_CONTAINS(parse_error(b), "the quantized-input flag is 7, not a boolean");
  // NaN in a matrix.
  io::FastTextModelFile f = small_supervised();
  auto good = as_bytes(io::serialize_fasttext_model(f));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(good.data() + good.size() - 4, &nan, 4);
  EXPECT_CONTAINS(parse_error(good), "the output matrix holds NaN at row 1, column 2");
  // n-grams without buckets.
  b = with_int32(kArgsAt + 8 * 4, 0);
  EXPECT_CONTAINS(parse_error(b), "but bucket is 0");
  // A supervised model with no label (it could predict nothing).
  Bytes none;
  none.put<std::int32_t>(io::kFastTextMagic).put<std::int32_t>(12);
  for (const std::int32_t v : {2, 5, 5, 1, 5, 1, 3, 3, 0, 0, 0, 100}) none.put(v);
  none.put<double>(1e-4).put<std::int32_t>(1).put<std::int32_t>(1).put<std::int32_t>(0);
  none.put<std::int64_t>(1).put<std::int64_t>(-1).text("w").put<std::int64_t>(1);
  none.put<std::int8_t>(0);
  EXPECT_CONTAINS(parse_error(none.data), "a supervised model without labels");
  // A dense model with a prune index (fastText refuses it too).
  b = with_int64(kDictAt + 20, 0);
  EXPECT_CONTAINS(parse_error(b), "pruned but the input matrix is not quantized");
}

TEST(FastTextModelFormat, WriterRefusesWhatFastTextCannotRead) {
  io::FastTextModelFile f = small_supervised();
  f.input = counting(6, 3, 0);
  EXPECT_CONTAINS(message_of<ValueError>([&] { io::serialize_fasttext_model(f); }),
                  "the input matrix is [6, 3] float32, expected [7, 3] float32");
  f = small_supervised();
  f.dictionary.labels.clear();
  f.output = counting(0, 3, 0);
  EXPECT_CONTAINS(message_of<ValueError>([&] { io::serialize_fasttext_model(f); }),
                  "needs at least one label");
  f = small_supervised();
  f.dictionary.words[0].text = "";
  EXPECT_CONTAINS(message_of<ValueError>([&] { io::serialize_fasttext_model(f); }),
                  "word 0 is empty");
  f = small_supervised();
  f.input.data<float>()[4] = std::numeric_limits<float>::infinity();
  EXPECT_CONTAINS(message_of<ValueError>([&] { io::serialize_fasttext_model(f); }),
                  "input matrix holds a non-finite value at row 1");
  f = small_supervised();
  f.quantized_input = true;  // and no codes
  EXPECT_CONTAINS(message_of<ValueError>([&] { io::serialize_fasttext_model(f); }),
                  "the quantized input matrix is 0 x 0");
}

// A quantized supervised model built by hand: 2 words, 1 label, no buckets, dim 3, dsub 2 (so
// two sub-quantizers, the last one 1 wide), input with norms, output without.
Bytes quantized_model(std::int32_t codesize_override = -1) {
  Bytes b;
  b.put<std::int32_t>(io::kFastTextMagic).put<std::int32_t>(12);
  for (const std::int32_t v : {3, 5, 5, 1, 5, 1, 3, 3, 0, 0, 0, 100}) b.put(v);
  b.put<double>(1e-4);
  b.put<std::int32_t>(3).put<std::int32_t>(2).put<std::int32_t>(1);
  b.put<std::int64_t>(9).put<std::int64_t>(-1);
  b.text("</s>").put<std::int64_t>(4).put<std::int8_t>(0);
  b.text("hello").put<std::int64_t>(3).put<std::int8_t>(0);
  b.text("__label__x").put<std::int64_t>(2).put<std::int8_t>(1);
  auto quantizer = [&](std::int32_t dim, std::int32_t nsubq, std::int32_t dsub,
                       std::int32_t lastdsub, float scale) {
    b.put(dim).put(nsubq).put(dsub).put(lastdsub);
    for (std::int32_t i = 0; i < dim * 256; ++i) b.put<float>(scale * static_cast<float>(i));
  };
  b.put<std::uint8_t>(1);  // quantized input
  b.put<std::uint8_t>(1).put<std::int64_t>(2).put<std::int64_t>(3);
  b.put<std::int32_t>(codesize_override >= 0 ? codesize_override : 4);
  for (const int c : {1, 2, 3, 4})
    b.put(static_cast<std::uint8_t>(c));  // row 0: codes 1, 2; row 1: 3, 4
  quantizer(3, 2, 2, 1, 0.5f);
  b.put<std::uint8_t>(10).put<std::uint8_t>(20);  // norm codes
  quantizer(1, 1, 1, 1, 0.125f);
  b.put<std::uint8_t>(1);  // quantized output
  b.put<std::uint8_t>(0).put<std::int64_t>(1).put<std::int64_t>(3);
  b.put<std::int32_t>(2).put<std::uint8_t>(5).put<std::uint8_t>(6);
  quantizer(3, 2, 2, 1, 1.0f);
  return b;
}

TEST(FastTextModelFormat, QuantizedMatricesAreDecoded) {
  const Bytes b = quantized_model();
  const io::FastTextModelFile f = io::parse_fasttext_model(b.data, "m.ftz");
  EXPECT_TRUE(f.quantized_input);
  EXPECT_TRUE(f.quantized_output);
  // Centroid c of sub-quantizer 0 (dsub 2) holds values 2c, 2c+1 of the table; of the last one
  // (1 wide) the value 512 + c. Each times the scale, and the row's norm (norm code n: n/8).
  // Kept as codes; decoded on request (and row by row, as predictions read them).
  EXPECT_FALSE(f.input.defined());
  EXPECT_EQ(f.input_codes.codes.size(), 4u);
  const auto in = f.input_codes.decode().to_float_vector();
  const float n0 = 10 * 0.125f;
  const float n1 = 20 * 0.125f;
  EXPECT_EQ(in, (std::vector<float>{n0 * 0.5f * 2, n0 * 0.5f * 3, n0 * 0.5f * 514, n1 * 0.5f * 6,
                                    n1 * 0.5f * 7, n1 * 0.5f * 516}));
  EXPECT_EQ(f.output_codes.decode().to_float_vector(), (std::vector<float>{10, 11, 518}));
  float row[3] = {1, 1, 1};
  f.input_codes.add_row(1, row, 2.0f);
  EXPECT_EQ(row[0], 1 + 2.0f * (n1 * 0.5f * 6));
  // Every cut point of the quantized file is a truncation.
  for (std::size_t cut = 0; cut < b.size(); ++cut) {
    const std::vector<std::uint8_t> part(b.data.begin(),
                                         b.data.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string msg = message_of<IoError>([&] { io::parse_fasttext_model(part, "m.ftz"); });
    EXPECT_EQ(msg.rfind("m.ftz: truncated", 0), 0u) << "cut at " << cut << ": " << msg;
  }
  // A code count that is not rows x sub-quantizers, or far beyond the file.
  EXPECT_FALSE(
      message_of<IoError>([&] { io::parse_fasttext_model(quantized_model(3).data); }).empty());
  EXPECT_CONTAINS(
      message_of<IoError>([&] {
        io::parse_fasttext_model(quantized_model(std::numeric_limits<std::int32_t>::max()).data);
      }),
      "truncated: the file ends inside the quantized input matrix's codes");
}

// The writer's .ftz (quantized matrices, pruned buckets) read back field for field, and each cut
// point of it a truncation; what the writer refuses, before touching the file.
TEST(FastTextModelFormat, QuantizedModelsRoundTrip) {
  io::FastTextModelFile f = small_supervised();
  f.dictionary.prune_index_size = 2;
  f.dictionary.prune_index = {{3, 0}, {1, 1}};
  f.quantized_input = true;
  f.quantized_output = true;
  for (io::FastTextQuantizedMatrix* m : {&f.input_codes, &f.output_codes}) {
    m->rows = m == &f.input_codes ? 5 : 2;
    m->cols = 3;
    m->qnorm = m == &f.input_codes;
    m->pq = io::FastTextProductQuantizer::with_shape(3, 2);  // a last sub-vector of 1
    EXPECT_EQ(m->pq.nsubq, 2);
    EXPECT_EQ(m->pq.lastdsub, 1);
    for (std::size_t i = 0; i < m->pq.centroids.size(); ++i) {
      m->pq.centroids[i] = 0.5f * static_cast<float>(i);
    }
    for (std::int64_t i = 0; i < m->rows * 2; ++i) {
      m->codes.push_back(static_cast<std::uint8_t>(37 * i + 5));
    }
    if (m->qnorm) {
      m->npq = io::FastTextProductQuantizer::with_shape(1, 1);
      for (std::size_t i = 0; i < 256; ++i) m->npq.centroids[i] = 1.0f + static_cast<float>(i);
      m->norm_codes = {0, 255, 7, 8, 9};
    }
  }
  const std::string bytes = io::serialize_fasttext_model(f);
  const std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  const io::FastTextModelFile g = io::parse_fasttext_model(data, "q.ftz");
  EXPECT_EQ(g.dictionary.prune_index_size, 2);
  EXPECT_EQ(g.dictionary.prune_index, f.dictionary.prune_index);
  ASSERT_TRUE(g.quantized_input && g.quantized_output);
  for (const auto& [a, b] :
       {std::pair{&f.input_codes, &g.input_codes}, std::pair{&f.output_codes, &g.output_codes}}) {
    EXPECT_EQ(a->codes, b->codes);
    EXPECT_EQ(a->pq.centroids, b->pq.centroids);
    EXPECT_EQ(a->qnorm, b->qnorm);
    EXPECT_EQ(a->norm_codes, b->norm_codes);
    EXPECT_EQ(a->npq.centroids, b->npq.centroids);
    EXPECT_EQ(a->decode().to_float_vector(), b->decode().to_float_vector());
  }
  // Row 1 of the input: codes 79 and 116 (the last sub-vector 1 wide), times norm code 255's 256.
  const auto in = g.input_codes.decode().to_float_vector();
  EXPECT_EQ(in[3], 256.0f * 0.5f * (79 * 2));
  EXPECT_EQ(in[4], 256.0f * 0.5f * (79 * 2 + 1));
  EXPECT_EQ(in[5], 256.0f * 0.5f * (512 + 116));
  for (std::size_t cut = 0; cut < data.size(); ++cut) {
    const std::vector<std::uint8_t> part(data.begin(),
                                         data.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string msg = message_of<IoError>([&] { io::parse_fasttext_model(part, "q.ftz"); });
    ASSERT_EQ(msg.rfind("q.ftz: truncated", 0), 0u) << "cut at " << cut << ": " << msg;
  }
  // Refused, and an existing file left as it was.
  embedkit_test::TempDir dir;
  dir.write("keep.ftz", "keep");
  auto refused = [&](io::FastTextModelFile bad, const std::string& words) {
    EXPECT_CONTAINS(message_of<ValueError>([&] { io::save_fasttext_model(dir / "keep.ftz", bad); }),
                    words);
    EXPECT_EQ(embedkit_test::read_file(dir / "keep.ftz"), "keep");
  };
  io::FastTextModelFile bad = f;
  bad.dictionary.prune_index = {{3, 0}, {3, 1}};
  refused(bad, "not one bucket");
  bad = f;
  bad.input_codes.codes.pop_back();
  refused(bad, "codes, expected rows x nsubq");
  bad = f;
  bad.quantized_input = false;
  bad.input = Tensor::zeros({5, 3});
  refused(bad, "pruned buckets need a quantized input matrix");
  bad = f;
  bad.output_codes.pq.centroids[3] = std::numeric_limits<float>::infinity();
  refused(bad, "non-finite centroid");
}

}  // namespace
