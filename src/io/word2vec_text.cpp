// word2vec text, fastText .vec (the same with a header) and GloVe (no header): one row per
// line, "word v1 ... vD", separated by spaces or tabs, every line ended by "\n" (a last line
// without it was cut short: see vector_formats.hpp).
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/float_text.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/display_name.hpp"
#include "io/vector_format_detail.hpp"

namespace embedkit::io {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// Splits a line on blanks into `out` (views into the line).
void split(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) break;
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    out.push_back(line.substr(start, i - start));
  }
}

class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  // The next line without its "\n"; false at the end of the text. IoError for a last line
  // that has no "\n": every writer of these formats ends each line with one, so the file was
  // cut, maybe inside a number ("4.1" left of "4.125"), and the line cannot be trusted.
  bool next(std::string_view& line, const std::string& source) {
    if (pos_ >= text_.size()) return false;
    const std::size_t nl = text_.find('\n', pos_);
    ++number_;
    if (nl == std::string_view::npos) {
      throw IoError(source, "line " + std::to_string(number_) +
                                ": the file ends inside this line (no newline after it): it "
                                "looks cut short, and a cut value would read as another "
                                "number; every writer of this format ends each line with a "
                                "newline (add it if the line is complete)");
    }
    line = text_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return true;
  }
  std::int64_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::int64_t number_ = 0;
};

std::string at_line(std::int64_t line) {
  return "line " + std::to_string(line);
}

}  // namespace

WordVectors parse_word2vec_text(std::span<const std::uint8_t> bytes, bool has_header,
                                const std::string& source) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  LineReader lines(text);
  std::string_view line;
  std::vector<std::string_view> tokens;

  std::int64_t rows = -1;  // from the header; -1 for GloVe
  std::int64_t dim = -1;
  if (has_header) {
    if (!lines.next(line, source))
      throw IoError(source, "empty file: expected the header line 'V D'");
    split(line, tokens);
    if (tokens.size() != 2 || !detail::parse_count(tokens[0], rows) ||
        !detail::parse_count(tokens[1], dim)) {
      throw IoError(source, "line 1: expected the header 'V D' (two counts), found " +
                                detail::display_name(line));
    }
    if (dim < 1) throw IoError(source, "line 1: the header's dimension must be at least 1");
    // Each row takes at least a word, D values and D + 1 separators: 2 * D + 2 bytes.
    const auto size = static_cast<std::int64_t>(text.size());
    if (rows > 0 && (dim > size / 2 || rows > size / (2 * dim + 1))) {
      throw IoError(source, "line 1: the header says " + std::to_string(rows) + " rows of " +
                                std::to_string(dim) + " values, more than the file's " +
                                std::to_string(size) + " bytes can hold");
    }
  }

  std::vector<std::string> words;
  std::vector<float> values;
  if (rows > 0) {
    words.reserve(static_cast<std::size_t>(rows));
    values.reserve(static_cast<std::size_t>(rows * dim));
  }
  detail::WordChecker checker(words.capacity());
  while (lines.next(line, source)) {
    const std::string where = at_line(lines.number());
    split(line, tokens);
    if (tokens.empty()) throw IoError(source, where + ": empty line");
    if (rows >= 0 && static_cast<std::int64_t>(words.size()) == rows) {
      throw IoError(source, where + ": more rows than the header's " + std::to_string(rows));
    }
    const std::string word(tokens[0]);
    checker.check(source, where, word);
    const auto found = static_cast<std::int64_t>(tokens.size()) - 1;
    if (dim < 0) {
      if (found < 1)
        throw IoError(source, where + ": word " + detail::display_name(word) + " has no values");
      dim = found;
    }
    if (found != dim) {
      throw IoError(source, where + ": word " + detail::display_name(word) + " has " +
                                std::to_string(found) + " values, expected " + std::to_string(dim));
    }
    for (std::size_t k = 1; k < tokens.size(); ++k) {
      const std::string_view tok = tokens[k];
      float v = 0.0f;
      const auto res = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (res.ec != std::errc() || res.ptr != tok.data() + tok.size() || !std::isfinite(v)) {
        throw IoError(source, where + ": word " + detail::display_name(word) + ", value " +
                                  std::to_string(k) + ": " + detail::display_name(tok) +
                                  " is not a finite float32 number");
      }
      values.push_back(v);
    }
    words.push_back(word);
  }
  if (rows >= 0 && static_cast<std::int64_t>(words.size()) != rows) {
    throw IoError(source, "the header says " + std::to_string(rows) + " rows but the file has " +
                              std::to_string(words.size()) + " (truncated?)");
  }
  if (dim < 0) throw IoError(source, "no vectors in the file");
  const auto n = static_cast<std::int64_t>(words.size());
  return WordVectors{std::move(words), detail::matrix_from(std::move(values), n, dim)};
}

std::string serialize_word2vec_text(const WordVectors& vectors, bool with_header) {
  check_word_vectors(vectors);
  const std::int64_t rows = vectors.matrix.size(0);
  const std::int64_t dim = vectors.matrix.size(1);
  std::string out;
  if (with_header) out += std::to_string(rows) + " " + std::to_string(dim) + "\n";
  const float* data = vectors.matrix.data<float>();
  for (std::int64_t i = 0; i < rows; ++i) {
    out += vectors.words[static_cast<std::size_t>(i)];
    for (std::int64_t j = 0; j < dim; ++j) {
      out += ' ';
      append_shortest_float_text(out, data[i * dim + j]);
    }
    out += '\n';
  }
  return out;
}

}  // namespace embedkit::io
