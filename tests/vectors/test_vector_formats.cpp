// Every word-vector format round-trips bit for bit, and every malformed input is an IoError
// that names the file (and the line, row or word), with no output file left behind.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "embedkit/core/error.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/temp_dir.hpp"

namespace {

using embedkit::IoError;
using embedkit::Tensor;
using embedkit::ValueError;
using namespace embedkit::io;
using embedkit_io_test::TempDir;

// Values that expose a lossy writer: -0, a subnormal, the extremes, and non-round decimals.
WordVectors awkward_vectors() {
  const std::vector<float> values = {-0.0f,    1e-45f,    FLT_MAX, -FLT_MIN, 0.1f,  1.0f / 3.0f,
                                     -2.5e-8f, 123456.7f, 1.0f,    -1.0f,    7e30f, 0.0f};
  return WordVectors{{"the", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "x"},
                     Tensor::from_floats(values, {4, 3})};
}

void expect_same(const WordVectors& a, const WordVectors& b) {
  EXPECT_EQ(a.words, b.words);
  ASSERT_EQ(a.matrix.shape(), b.matrix.shape());
  EXPECT_EQ(std::memcmp(a.matrix.raw_data(), b.matrix.raw_data(), a.matrix.nbytes()), 0);
}

void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

class FormatRoundTrip : public ::testing::TestWithParam<VectorFormat> {};

TEST_P(FormatRoundTrip, IsBitExact) {
  TempDir dir;
  const WordVectors v = awkward_vectors();
  const auto path = dir / "vectors.out";
  save_word_vectors(path, v, GetParam());
  expect_same(load_word_vectors(path, GetParam()), v);
  // Saving again over the file replaces it, and leaves no temporary file behind.
  save_word_vectors(path, v, GetParam());
  for (const auto& name : dir.names()) EXPECT_EQ(name.find("embedkit-tmp"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AllFormats, FormatRoundTrip,
                         ::testing::Values(VectorFormat::Word2VecText, VectorFormat::FastTextVec,
                                           VectorFormat::Word2VecBinary, VectorFormat::GloVe,
                                           VectorFormat::Npy, VectorFormat::Safetensors));

TEST(VectorFormats, GuessesFromTheExtension) {
  EXPECT_EQ(guess_vector_format("a/b.txt"), VectorFormat::Word2VecText);
  EXPECT_EQ(guess_vector_format("b.vec"), VectorFormat::FastTextVec);
  EXPECT_EQ(guess_vector_format("b.bin"), VectorFormat::Word2VecBinary);
  EXPECT_EQ(guess_vector_format("b.npy"), VectorFormat::Npy);
  EXPECT_EQ(guess_vector_format("b.safetensors"), VectorFormat::Safetensors);
  EXPECT_EQ(guess_vector_format("b.glove"), std::nullopt);
  EXPECT_EQ(parse_vector_format("glove"), VectorFormat::GloVe);
  EXPECT_THROW((void)parse_vector_format("csv"), ValueError);
  EXPECT_EQ(vocabulary_path_for("d/v.npy"), std::filesystem::path("d/v.vocab"));
}

TEST(VectorFormats, ReadsWhatWord2vecCWrites) {
  // word2vec.c -binary 0 ends every value with a space; -binary 1 ends rows with "\n".
  const std::string text = "2 2\nhello 0.500000 -1.000000 \nworld 2.000000 0.250000 \n";
  const auto t = parse_word2vec_text(
      {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, true, "t");
  EXPECT_EQ(t.words, (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(t.matrix.to_float_vector(), (std::vector<float>{0.5f, -1.0f, 2.0f, 0.25f}));
  std::string bin = "1 2\nab ";
  const float values[2] = {1.5f, -2.0f};
  bin.append(reinterpret_cast<const char*>(values), sizeof values);
  for (const std::string& tail : {std::string(), std::string("\n")}) {
    const std::string b = bin + tail;
    const auto w =
        parse_word2vec_binary({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()}, "b");
    EXPECT_EQ(w.words, std::vector<std::string>{"ab"});
    EXPECT_EQ(w.matrix.to_float_vector(), (std::vector<float>{1.5f, -2.0f}));
  }
}

// A malformed file must be an IoError whose message holds `needle` (and the path), and a
// load-then-save (what `embedkit convert` does) must leave no output file.
void expect_rejected(const std::string& bytes, VectorFormat format, const std::string& needle,
                     const std::string& vocabulary = "") {
  TempDir dir;
  const auto in = dir / "in.data";
  write_bytes(in, bytes);
  if (!vocabulary.empty()) write_bytes(vocabulary_path_for(in), vocabulary);
  const auto out = dir / "out.txt";
  try {
    save_word_vectors(out, load_word_vectors(in, format));
    ADD_FAILURE() << "accepted: " << needle;
  } catch (const IoError& e) {
    const std::string what = e.what();
    // The message starts with the path of the file at fault (the matrix or its vocabulary).
    EXPECT_EQ(what.rfind((dir / "in.").string(), 0), 0u) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << "'" << needle << "' not in: " << what;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(VectorFormats, MalformedWord2vecTextIsRejected) {
  const auto T = VectorFormat::Word2VecText;
  expect_rejected("", T, "empty file");
  expect_rejected("2\nab 1\n", T, "line 1");
  expect_rejected("two 2\nab 1 2\n", T, "line 1");
  expect_rejected("3 2\na 1 2\nb 3 4\n", T, "header says 3 rows but the file has 2");
  expect_rejected("1 2\na 1 2\nb 3 4\n", T, "line 3: more rows");
  expect_rejected("2 2\na 1 2\nb 3\n", T, "line 3: word 'b' has 1 values, expected 2");
  expect_rejected("2 2\na 1 2\nb 3 4 5\n", T, "line 3: word 'b' has 3 values");
  expect_rejected("1 2\na 1 nan\n", T, "line 2: word 'a', value 2");
  expect_rejected("1 2\na inf 1\n", T, "value 1");
  expect_rejected("1 2\na 1 x2\n", T, "'x2' is not a finite");
  expect_rejected("1 2\na 1 1e999\n", T, "line 2");
  expect_rejected("1 2\n\xff\xfe 1 2\n", T, "not valid UTF-8");
  expect_rejected("2 2\na 1 2\na 3 4\n", T, "line 3: word 'a' appears twice");
  expect_rejected("2 2\na 1 2\n\nb 3 4\n", T, "line 3: empty line");
  expect_rejected("999999999999 300\na 1\n", T, "more than the file's");
  expect_rejected("1 0\na\n", T, "dimension");
  expect_rejected("a 1 2\nb 3\n", VectorFormat::GloVe, "line 2: word 'b' has 1 values");
  expect_rejected("", VectorFormat::GloVe, "no vectors");
}

std::string floats(std::initializer_list<float> values) {
  std::string s;
  for (const float v : values) s.append(reinterpret_cast<const char*>(&v), sizeof v);
  return s;
}

TEST(VectorFormats, MalformedWord2vecBinaryIsRejected) {
  const auto B = VectorFormat::Word2VecBinary;
  expect_rejected("", B, "no header");
  expect_rejected("1 x\n", B, "header");
  expect_rejected("2 2\na " + floats({1, 2}) + "\nbbbbbbbbbbbbbbbb", B, "row 1: truncated");
  expect_rejected("1 2\na " + floats({1, 2}) + "\nb " + floats({3, 4}) + "\n", B,
                  "bytes after the header's 1 rows");
  expect_rejected("1 2\nabcdefgh " + floats({1}), B, "row 0 ('abcdefgh'): truncated");
  expect_rejected("2 2\na " + floats({1, 2}) + "\n", B, "more than the file's");
  expect_rejected("1 2\na " + floats({1, std::nanf("")}), B, "row 0 ('a'): value 2");
  expect_rejected("1 1\n\xc3 " + floats({1}), B, "not valid UTF-8");
  expect_rejected("2 1\na " + floats({1}) + "\na " + floats({2}), B, "word 'a' appears twice");
  expect_rejected("100000000 100\na " + floats({1}), B, "more than the file's");
}

std::string npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size());
  out += '\0';
  return out + header + data;
}

TEST(VectorFormats, MalformedNpyIsRejected) {
  const auto N = VectorFormat::Npy;
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }";
  expect_rejected("not numpy", N, "no \\x93NUMPY magic", "a\n");
  expect_rejected(
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", floats({1, 2, 3, 4})), N,
      "'<f8'", "a\n");
  expect_rejected(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", floats({1, 2})),
                  N, "Fortran", "a\n");
  expect_rejected(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", floats({1, 2})),
                  N, "1 dimensions", "a\n");
  expect_rejected(npy(ok_dict, floats({1})), N, "needs", "a\n");
  expect_rejected(npy(ok_dict, floats({1, 2, 3})), N, "needs", "a\n");
  expect_rejected(npy("{'descr': '<f4', 'shape': (1, 2), }", floats({1, 2})), N, "npy header",
                  "a\n");
  expect_rejected(npy(ok_dict, floats({1, std::nanf("")})), N, "row 0 ('a'): value 2", "a\n");
  // The vocabulary side file: missing, the wrong size, a bad word.
  expect_rejected(npy(ok_dict, floats({1, 2})), N, "cannot open");
  expect_rejected(npy(ok_dict, floats({1, 2})), N, "2 words", "a\nb\n");
  expect_rejected(npy(ok_dict, floats({1, 2})), N, "not valid UTF-8", "\xff\n");
}

TEST(VectorFormats, MalformedSafetensorsIsRejected) {
  const auto S = VectorFormat::Safetensors;
  const Tensor m = Tensor::from_floats({1, 2, 3, 4}, {2, 2});
  const auto bytes = [](const NamedTensors& t, const Metadata& md) {
    const auto b = serialize_safetensors(t, md);
    return std::string(b.begin(), b.end());
  };
  expect_rejected(bytes({{"weight", m}}, {}), S, "in.vocab: cannot open");
  expect_rejected(bytes({{"other", m}}, {{"vocabulary", "a\nb"}}), S, "no tensor named");
  expect_rejected(bytes({{"weight", m}}, {{"vocabulary", "a"}}), S, "1 words for the 2 rows");
  expect_rejected(bytes({{"weight", m.to(embedkit::DType::Float16)}}, {{"vocabulary", "a\nb"}}), S,
                  "must be F32");
  expect_rejected(bytes({{"weight", Tensor::from_floats({1, std::nanf(""), 3, 4}, {2, 2})}},
                        {{"vocabulary", "a\nb"}}),
                  S, "row 0 ('a'): value 2");
  expect_rejected(bytes({{"weight", m}}, {{"vocabulary", "a\na"}}), S, "appears twice");
  expect_rejected("garbage", S, "");
}

TEST(VectorFormats, SafetensorsTakesTheSideVocabularyWhenMetadataHasNone) {
  TempDir dir;
  const auto path = dir / "v.safetensors";
  save_safetensors(path, {{"weight", Tensor::from_floats({1, 2}, {2, 1})}});
  write_bytes(vocabulary_path_for(path), "up\ndown\n");
  const auto v = load_word_vectors(path);
  EXPECT_EQ(v.words, (std::vector<std::string>{"up", "down"}));
}

TEST(VectorFormats, WritersRejectWhatCannotBeReadBack) {
  TempDir dir;
  const auto out = dir / "v.txt";
  const Tensor m = Tensor::from_floats({1, 2}, {2, 1});
  EXPECT_THROW(save_word_vectors(out, {{"a b", "c"}, m}), ValueError);
  EXPECT_THROW(save_word_vectors(out, {{"a", "a"}, m}), ValueError);
  EXPECT_THROW(save_word_vectors(out, {{"a", ""}, m}), ValueError);
  EXPECT_THROW(save_word_vectors(out, {{"a"}, m}), ValueError);
  EXPECT_THROW(save_word_vectors(out, {{"a", "b"}, Tensor::from_floats({1, INFINITY}, {2, 1})}),
               ValueError);
  EXPECT_THROW(save_word_vectors(dir / "v.unknown", {{"a", "b"}, m}), ValueError);
  EXPECT_TRUE(dir.names().empty());
}

}  // namespace
