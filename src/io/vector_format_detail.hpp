// Helpers shared by the word-vector readers and writers (vector_formats.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/key_index.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/file_reading.hpp"

namespace embedkit::io::detail {

// Why `word` cannot be stored (empty, not UTF-8, holds whitespace), or "" when it can.
std::string word_problem(std::string_view word);

// Throws IoError(source, where + ": ...") for a bad word, and for a duplicate of an earlier
// word; `seen` collects the words read so far.
class WordChecker {
 public:
  explicit WordChecker(std::size_t expected);
  ~WordChecker();
  WordChecker(const WordChecker&) = delete;
  WordChecker& operator=(const WordChecker&) = delete;
  void check(const std::string& source, const std::string& where, const std::string& word);

 private:
  struct Impl;
  Impl* impl_;
};

// Parses a header count: decimal digits only, at most 18 of them.
bool parse_count(std::string_view text, std::int64_t& out);

// "row 3 ('king')"-style location for messages.
std::string row_name(std::int64_t row, std::string_view word);

// The words joined by "\n", no newline after the last (the safetensors metadata form).
std::string join_lines(const std::vector<std::string>& words);

// Throws IoError naming the row and word of the first non-finite value.
void check_finite(const std::string& source, const std::vector<std::string>& words,
                  const Tensor& matrix);

// Float32 matrix [V, D] made from the values read.
Tensor matrix_from(std::vector<float>&& values, std::int64_t rows, std::int64_t dim);

// parse_vocabulary, with the words left in the index that found them distinct (what
// KeyedVectors(KeyIndex, Tensor) takes without indexing them again).
KeyIndex index_vocabulary(std::span<const std::uint8_t> bytes, const std::string& source,
                          std::optional<MatrixFileIdentity>* pair);

// index_vocabulary in two steps. A vocabulary's word lines, and its pair line when it has one
// (IoError for a malformed pair line, as parse_vocabulary words it):
struct VocabularyLines {
  std::string_view words;  // the lines before the pair line (or all of them), a view of bytes
  std::optional<MatrixFileIdentity> pair;
};
VocabularyLines split_vocabulary(std::span<const std::uint8_t> bytes, const std::string& source);
// The word lines checked and indexed (IoError for a bad or repeated word, as parse_vocabulary).
KeyIndex index_vocabulary_words(std::string_view words, const std::string& source);
// The word lines split as index_vocabulary_words splits them, with no check: for lines that
// passed its checks before, byte for byte (the word index stored beside a pair says so).
std::vector<std::string> checked_vocabulary_words(std::string_view words);

// The .vocab line that names the matrix file it belongs with (pair_identity.cpp).
inline constexpr std::string_view kPairLinePrefix = "#embedkit-pair ";
bool is_pair_line(std::string_view line);
std::string pair_line(const MatrixFileIdentity& identity);
// IoError(source, where + ": ...") when the line is malformed or of a newer format.
MatrixFileIdentity parse_pair_line(std::string_view line, const std::string& source,
                                   const std::string& where);

// A .npy header (npy.cpp): dtype text ('<f4', ...), a C-order 2-D shape, where the data starts.
// IoError for anything else (a dtype not in `descrs`, said as "is not " + descrs_text, Fortran
// order, another rank, a bad header).
struct NpyHeader {
  std::string descr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::size_t data_offset = 0;
};
NpyHeader parse_npy_header(std::span<const std::uint8_t> bytes, const std::string& source,
                           std::span<const std::string_view> descrs, std::string_view descrs_text);
// IoError unless the data after the header is exactly rows * cols elements of `element_size`.
void check_npy_data_size(const NpyHeader& header, std::size_t file_size, std::size_t element_size,
                         const std::string& source);

// The word vectors of parsed safetensors contents (see parse_vectors_safetensors); without
// `check_values`, the values are not scanned for NaN and infinity (a mapped matrix).
WordVectors vectors_from_safetensors(SafetensorsContents&& contents, const std::string& source,
                                     const std::vector<std::string>* side_vocabulary,
                                     bool check_values = true);

}  // namespace embedkit::io::detail
