// word2vec binary, as word2vec.c -binary 1 writes it: "V D\n", then per row the word, a
// space, D little-endian float32 and a "\n" (gensim omits the newline; both are read).
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/display_name.hpp"
#include "io/vector_format_detail.hpp"

namespace embedkit::io {

WordVectors parse_word2vec_binary(std::span<const std::uint8_t> bytes, const std::string& source) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) throw IoError(source, "no header line 'V D'");
  const std::string_view header = text.substr(0, nl);
  const std::size_t space = header.find(' ');
  std::int64_t rows = 0;
  std::int64_t dim = 0;
  std::string_view dim_text = space == std::string_view::npos ? "" : header.substr(space + 1);
  // word2vec.c prints "%lld %lld\n"; some writers leave a space or "\r" before the newline.
  while (!dim_text.empty() && (dim_text.back() == ' ' || dim_text.back() == '\r')) {
    dim_text.remove_suffix(1);
  }
  if (space == std::string_view::npos || !detail::parse_count(header.substr(0, space), rows) ||
      !detail::parse_count(dim_text, dim)) {
    throw IoError(source,
                  "expected the header 'V D' (two counts), found " + detail::display_name(header));
  }
  if (dim < 1) throw IoError(source, "the header's dimension must be at least 1");
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * sizeof(float);
  std::size_t pos = nl + 1;
  const std::size_t remaining = text.size() - pos;
  // Each row takes at least a 1-byte word, a space and D floats.
  if (rows > 0 &&
      (row_bytes > remaining || static_cast<std::size_t>(rows) > remaining / (row_bytes + 2))) {
    throw IoError(source, "the header says " + std::to_string(rows) + " rows of " +
                              std::to_string(dim) + " float32, more than the file's " +
                              std::to_string(text.size()) + " bytes can hold");
  }
  std::vector<std::string> words;
  words.reserve(static_cast<std::size_t>(rows));
  std::vector<float> values(static_cast<std::size_t>(rows * dim));
  detail::WordChecker checker(words.capacity());
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::string where = "row " + std::to_string(r);
    if (r > 0 && pos < text.size() && text[pos] == '\n') ++pos;  // the previous row's newline
    const std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) {
      throw IoError(source, where + ": truncated (no space after the word; the header says " +
                                std::to_string(rows) + " rows)");
    }
    const std::string word(text.substr(pos, end - pos));
    checker.check(source, where, word);
    pos = end + 1;
    if (text.size() - pos < row_bytes) {
      throw IoError(
          source, detail::row_name(r, word) + ": truncated: " + std::to_string(text.size() - pos) +
                      " bytes left, " + std::to_string(row_bytes) + " needed for its values");
    }
    float* dst = values.data() + r * dim;
    std::memcpy(dst, text.data() + pos, row_bytes);
    pos += row_bytes;
    for (std::int64_t j = 0; j < dim; ++j) {
      if (!std::isfinite(dst[j])) {
        throw IoError(source, detail::row_name(r, word) + ": value " + std::to_string(j + 1) +
                                  " is not finite");
      }
    }
    words.push_back(word);
  }
  if (rows > 0 && pos < text.size() && text[pos] == '\n') ++pos;
  if (pos != text.size()) {
    throw IoError(source, std::to_string(text.size() - pos) + " bytes after the header's " +
                              std::to_string(rows) + " rows (the header count is wrong?)");
  }
  return WordVectors{std::move(words), detail::matrix_from(std::move(values), rows, dim)};
}

std::string serialize_word2vec_binary(const WordVectors& vectors) {
  check_word_vectors(vectors);
  const std::int64_t rows = vectors.matrix.size(0);
  const std::int64_t dim = vectors.matrix.size(1);
  std::string out = std::to_string(rows) + " " + std::to_string(dim) + "\n";
  const auto* data = static_cast<const char*>(vectors.matrix.raw_data());
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * sizeof(float);
  for (std::int64_t i = 0; i < rows; ++i) {
    out += vectors.words[static_cast<std::size_t>(i)];
    out += ' ';
    out.append(data + static_cast<std::size_t>(i) * row_bytes, row_bytes);
    out += '\n';
  }
  return out;
}

}  // namespace embedkit::io
