// Every word-vector format round-trips bit for bit, and every malformed input is an IoError
// that names the file (and the line, row or word), with no output file left behind.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

#include "embedkit/core/error.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::IoError;
using embedkit::NamedTensors;
using embedkit::Tensor;
using embedkit::ValueError;
using namespace embedkit::io;
using embedkit_test::read_file;
using embedkit_test::TempDir;
using embedkit_test::write_file;

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
  write_file(in, bytes);
  if (!vocabulary.empty()) write_file(vocabulary_path_for(in), vocabulary);
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
  write_file(vocabulary_path_for(path), "up\ndown\n");
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

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Bug 4: a text file cut anywhere loads as the file that was written or not at all (before
// the fix, "b 3.5 4.125" cut to "b 3.5 4.1" loaded with 4.1).
TEST(VectorFormats, ACutTextFileNeverLoadsWithChangedValues) {
  const std::string text = "2 2\na 1.5 2.25\nb 3.5 4.125\n";
  // The example: `printf '2 2\na 1.5 2.25\nb 3.5 4.125\n' | head -c 24`.
  expect_rejected(text.substr(0, 24), VectorFormat::Word2VecText,
                  "line 3: the file ends inside this line (no newline after it)");
  // Every cut of a file with a header is refused: inside a line by the newline rule, at the
  // end of a line by the header's row count.
  for (std::size_t n = 1; n < text.size(); ++n) {
    EXPECT_THROW((void)parse_word2vec_text(bytes_of(text.substr(0, n)), true, "t"), IoError)
        << "cut after " << n << " bytes";
  }
  // GloVe has no row count: a cut at the end of a row is a shorter, correct file; any other
  // cut is refused.
  const std::string glove = "a 1.5 2.25\nb 3.5 4.125\n";
  for (std::size_t n = 1; n < glove.size(); ++n) {
    const std::string cut = glove.substr(0, n);
    if (cut.back() == '\n') {
      const auto v = parse_word2vec_text(bytes_of(cut), false, "g");
      EXPECT_EQ(v.matrix.to_float_vector(), (std::vector<float>{1.5f, 2.25f}));
    } else {
      EXPECT_THROW((void)parse_word2vec_text(bytes_of(cut), false, "g"), IoError)
          << "cut after " << n << " bytes";
    }
  }
  expect_rejected("a 1.5 2.25\nb 3.5 4.1", VectorFormat::GloVe, "line 2: the file ends inside");
  expect_rejected("0 5", VectorFormat::Word2VecText, "line 1: the file ends inside");
  // Still read: "\r\n" line ends, word2vec.c's space before the newline, and no rows at all.
  const auto crlf = parse_word2vec_text(bytes_of("1 2\r\nab 1 2 \r\n"), true, "c");
  EXPECT_EQ(crlf.matrix.to_float_vector(), (std::vector<float>{1, 2}));
  EXPECT_EQ(parse_word2vec_text(bytes_of("0 5\n"), true, "e").matrix.size(1), 5);
}

// A vocabulary's last word may lack its newline (hand-made and '\n'.join-ed files); a cut of
// the pair's .vocab is caught by the word count, or by its pair line.
TEST(VectorFormats, AVocabularysLastNewlineIsOptional) {
  EXPECT_EQ(parse_vocabulary(bytes_of("a\nb")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse_vocabulary(bytes_of("a\r\nb\r\n")), (std::vector<std::string>{"a", "b"}));
}

// The vocabulary's words are hashed some lines ahead of the line being added (a prefetch): a
// repeated word or a bad one is still reported at its own line, whichever comes first, in
// vocabularies shorter and longer than that distance, with or without the last newline.
// "w<i>" (not "w" + ...: GCC 12's false -Wrestrict, bug 105329).
std::string numbered_word(int i) {
  std::string w = "w";
  w += std::to_string(i);
  return w;
}

// The first error parse_vocabulary reports for `text`, or "" when it reads it.
std::string vocabulary_error(const std::string& text) {
  try {
    (void)parse_vocabulary(bytes_of(text), "v");
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(VectorFormats, AVocabularysErrorsNameTheirLine) {
  for (const int lines : {1, 2, 15, 16, 17, 40}) {
    std::string text;
    for (int i = 0; i < lines; ++i) {
      text += numbered_word(i);
      text += '\n';
    }
    EXPECT_EQ(parse_vocabulary(bytes_of(text)).size(), static_cast<std::size_t>(lines));
    text.pop_back();
    EXPECT_EQ(parse_vocabulary(bytes_of(text)).size(), static_cast<std::size_t>(lines));
    for (int at = 1; at <= lines; ++at) {
      std::string repeated = text;
      repeated += '\n';
      repeated += numbered_word(at - 1);
      std::string expected = "vocabulary line ";
      expected += std::to_string(lines + 1);
      expected += ": word '";
      expected += numbered_word(at - 1);
      expected += "' appears twice";
      std::string message = vocabulary_error(repeated);
      EXPECT_NE(message.find(expected), std::string::npos) << message;
      // An empty line at line `at`, before that repeat: it is the one reported.
      std::string bad = text;
      bad += '\n';
      std::string line = numbered_word(at - 1);
      line += '\n';
      bad.erase(bad.find(line), line.size() - 1);
      bad += numbered_word(0);
      expected = "vocabulary line ";
      expected += std::to_string(at);
      expected += ": an empty word";
      message = vocabulary_error(bad);
      EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
  }
}

TEST(VectorPair, TheVocabularyNamesItsMatrixFile) {
  TempDir dir;
  const auto path = dir / "v.npy";
  const WordVectors v = awkward_vectors();
  save_word_vectors(path, v);
  const std::string npy_bytes = read_file(path);
  const std::string vocab = read_file(dir / "v.vocab");
  // The words, one per line, then the pair line naming the .npy's size and XXH64.
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(identify_matrix_file(bytes_of(npy_bytes)).xxh64));
  EXPECT_EQ(vocab,
            "the\ncaf\xc3\xa9\n\xe6\x97\xa5\xe6\x9c\xac\nx\n#embedkit-pair format=1 "
            "matrix-bytes=" +
                std::to_string(npy_bytes.size()) + " matrix-xxh64=" + hex + "\n");
  std::optional<MatrixFileIdentity> pair;
  EXPECT_EQ(parse_vocabulary(bytes_of(vocab), "v", &pair), v.words);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(*pair, identify_matrix_file(bytes_of(npy_bytes)));
  // The checksum is the standard XXH64 (seed 0), so that xxh64sum can check a pair.
  EXPECT_EQ(identify_matrix_file(bytes_of("abc")).xxh64, 0x44bc2cf5ad770999ULL);
  EXPECT_EQ(identify_matrix_file(bytes_of("Nobody inspects the spammish repetition")).xxh64,
            0xfbcea83c8a378bf1ULL);
  EXPECT_EQ(identify_matrix_file(bytes_of("")), (MatrixFileIdentity{0, 0xef46db3751d8e999ULL}));
}

// Bug 1: the matrix of one save with the words of another (same shape, so nothing else shows
// it) is refused; before the fix it loaded with the wrong words.
TEST(VectorPair, AMixedPairIsRefused) {
  TempDir dir;
  const Tensor m1 = Tensor::from_floats({1, 2, 3, 4}, {2, 2});
  const Tensor m2 = Tensor::from_floats({5, 6, 7, 8}, {2, 2});
  save_word_vectors(dir / "a.npy", {{"king", "queen"}, m1});
  save_word_vectors(dir / "b.npy", {{"apple", "pear"}, m2});
  std::filesystem::copy_file(dir / "b.vocab", dir / "a.vocab",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    (void)load_word_vectors(dir / "a.npy");
    ADD_FAILURE() << "a mixed pair loaded";
  } catch (const IoError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind((dir / "a.vocab").string() + ": was written with another a.npy", 0), 0u) << m;
    EXPECT_NE(m.find("not one save"), std::string::npos) << m;
  }
  // The same words over a matrix changed by another program: refused too, until the pair line
  // is deleted (what the message says to do).
  save_word_vectors(dir / "c.npy", {{"king", "queen"}, m1});
  std::filesystem::copy_file(dir / "b.npy", dir / "c.npy",
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_THROW((void)load_word_vectors(dir / "c.npy"), IoError);
  write_file(dir / "c.vocab", "king\nqueen\n");
  const auto c = load_word_vectors(dir / "c.npy");
  EXPECT_EQ(c.words, (std::vector<std::string>{"king", "queen"}));
  EXPECT_EQ(c.matrix.to_float_vector(), (std::vector<float>{5, 6, 7, 8}));
}

TEST(VectorPair, PairLinesAreStrict) {
  const auto N = VectorFormat::Npy;
  const std::string matrix =
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", floats({1, 2}));
  expect_rejected(matrix, N, "vocabulary line 2: malformed pair line",
                  "a\n#embedkit-pair format=1 matrix-bytes=12\n");
  expect_rejected(matrix, N, "malformed pair line",
                  "a\n#embedkit-pair format=1 matrix-bytes=12 matrix-xxh64=0123456789abcde\n");
  expect_rejected(matrix, N, "malformed pair line",
                  "a\n#embedkit-pair format=1 matrix-bytes=12 matrix-xxh64=0123456789ABCDEF\n");
  expect_rejected(matrix, N, "pair line of format 2, newer than this embedkit reads",
                  "a\n#embedkit-pair format=2 matrix-bytes=1 matrix-xxh64=0123456789abcdef\n");
  // Only as the last line: elsewhere it is a line holding spaces, which no word can.
  expect_rejected(matrix, N, "holds whitespace",
                  "#embedkit-pair format=1 matrix-bytes=1 matrix-xxh64=0123456789abcdef\na\n");
  // A matching pair line is read with "\r\n" line ends too.
  TempDir dir;
  const auto path = dir / "m.npy";
  write_file(path, matrix);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(identify_matrix_file(bytes_of(matrix)).xxh64));
  write_file(dir / "m.vocab", "a\r\n#embedkit-pair format=1 matrix-bytes=" +
                                  std::to_string(matrix.size()) + " matrix-xxh64=" + hex + "\r\n");
  EXPECT_EQ(load_word_vectors(path).words, std::vector<std::string>{"a"});
  // An empty matrix's .vocab is the pair line alone.
  save_word_vectors(dir / "empty.npy", {{}, Tensor::empty({0, 3})});
  EXPECT_EQ(read_file(dir / "empty.vocab").rfind("#embedkit-pair ", 0), 0u);
  EXPECT_EQ(load_word_vectors(dir / "empty.npy").matrix.size(0), 0);
}

TEST(VectorPair, ASafetensorsSideVocabularyIsCheckedToo) {
  TempDir dir;
  const auto path = dir / "v.safetensors";
  save_safetensors(path, {{"weight", Tensor::from_floats({1, 2}, {2, 1})}});
  // The .vocab of another matrix file (as a .npy save next to it writes).
  save_word_vectors(dir / "v.npy", {{"up", "down"}, Tensor::from_floats({1, 2}, {2, 1})});
  EXPECT_THROW((void)load_word_vectors(path), IoError);
}

// Bug 2: a .npy named *.vocab is its own side file; before the fix the words overwrote the
// matrix.
TEST(VectorPair, AMatrixNamedDotVocabIsRefused) {
  TempDir dir;
  const WordVectors v = awkward_vectors();
  try {
    save_word_vectors(dir / "o.vocab", v, VectorFormat::Npy);
    ADD_FAILURE() << "saved";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("o.vocab: a .npy matrix cannot be written to a path "
                                         "ending in .vocab"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(dir.names().empty());
  write_file(dir / "w.vocab", "a\n");
  EXPECT_THROW((void)load_word_vectors(dir / "w.vocab", VectorFormat::Npy), ValueError);
  // Every file a save writes, for callers that check them against their inputs.
  EXPECT_EQ(vector_output_files("d/v.npy"),
            (std::vector<std::filesystem::path>{"d/v.npy", "d/v.vocab"}));
  EXPECT_EQ(vector_output_files("d/v.bin"), std::vector<std::filesystem::path>{"d/v.bin"});
  EXPECT_EQ(vector_output_files("d/v.glove", VectorFormat::GloVe),
            std::vector<std::filesystem::path>{"d/v.glove"});
}

}  // namespace
