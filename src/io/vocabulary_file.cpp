// The vocabulary side file (one word per line) and the safetensors layout of word vectors,
// whose words are one per line in the "vocabulary" metadata entry.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/key_index.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/display_name.hpp"
#include "io/vector_format_detail.hpp"

namespace embedkit::io {
namespace {

// The words of `text`, one a line, each checked (word_problem) and refused when repeated. The
// messages are built only on an error, and the words are de-duplicated by the index that holds
// them (one copy of each, one array), so a 1M-word vocabulary costs its lines' scan and one
// index: opening a mapped vectors file waits for this (BENCHMARKS.md, issue 16).
KeyIndex index_words(std::string_view text, const std::string& source,
                     bool trailing_newline_allowed, const std::string& what) {
  if (text.empty()) return {};
  if (trailing_newline_allowed && text.back() == '\n') text.remove_suffix(1);
  KeyIndex index;
  index.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  // The line kPrefetchAhead lines on has its table slot prefetched (KeyIndex::prefetch): a
  // million words' slots are random loads from a table of tens of megabytes, and waiting for
  // each in turn was a third of the command's CPU time on a 1M-word file (BENCHMARKS.md).
  constexpr int kPrefetchAhead = 16;
  std::size_t ahead = 0;  // start of the next line to prefetch; npos: none left
  const auto prefetch_next = [&] {
    if (ahead == std::string_view::npos) return;
    const std::size_t end = text.find('\n', ahead);
    index.prefetch(text.substr(ahead, end == std::string_view::npos ? end : end - ahead));
    ahead = end == std::string_view::npos ? end : end + 1;
  };
  for (int i = 0; i < kPrefetchAhead; ++i) prefetch_next();
  std::size_t pos = 0;
  std::int64_t line = 0;
  while (true) {
    prefetch_next();
    const std::size_t nl = text.find('\n', pos);
    std::string_view w = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (!w.empty() && w.back() == '\r') w.remove_suffix(1);
    ++line;
    const auto where = [&] { return what + " line " + std::to_string(line) + ": "; };
    if (const std::string problem = detail::word_problem(w); !problem.empty()) {
      throw IoError(source, where() + problem);
    }
    if (!index.add(w).inserted) {
      throw IoError(source, where() + "word " + detail::display_name(w) + " appears twice");
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return index;
}

std::vector<std::string> split_words(std::string_view text, const std::string& source,
                                     bool trailing_newline_allowed, const std::string& what) {
  return index_words(text, source, trailing_newline_allowed, what).take_keys();
}

}  // namespace

namespace detail {
std::string join_lines(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += '\n';
    out += words[i];
  }
  return out;
}
}  // namespace detail

detail::VocabularyLines detail::split_vocabulary(std::span<const std::uint8_t> bytes,
                                                 const std::string& source) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  VocabularyLines out;
  // The pair line, when there is one, is the last line.
  std::string_view body = text;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  const std::size_t last_newline = body.rfind('\n');
  const std::size_t last_start = last_newline == std::string_view::npos ? 0 : last_newline + 1;
  std::string_view last = body.substr(last_start);
  if (detail::is_pair_line(last)) {
    if (!last.empty() && last.back() == '\r') last.remove_suffix(1);
    const auto line_number = static_cast<std::int64_t>(
        std::count(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(last_start), '\n'));
    out.pair =
        detail::parse_pair_line(last, source, "vocabulary line " + std::to_string(line_number + 1));
    text = text.substr(0, last_start);
  }
  out.words = text;
  return out;
}

KeyIndex detail::index_vocabulary_words(std::string_view words, const std::string& source) {
  return index_words(words, source, true, "vocabulary");
}

std::vector<std::string> detail::checked_vocabulary_words(std::string_view text) {
  // index_words' split: an optional final newline, lines on '\n', a '\r' before it dropped.
  std::vector<std::string> words;
  if (text.empty()) return words;
  if (text.back() == '\n') text.remove_suffix(1);
  words.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  std::size_t pos = 0;
  while (true) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view w = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (!w.empty() && w.back() == '\r') w.remove_suffix(1);
    words.emplace_back(w);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return words;
}

KeyIndex detail::index_vocabulary(std::span<const std::uint8_t> bytes, const std::string& source,
                                  std::optional<MatrixFileIdentity>* pair) {
  if (pair != nullptr) pair->reset();
  VocabularyLines lines = split_vocabulary(bytes, source);
  if (pair != nullptr) *pair = lines.pair;
  return index_vocabulary_words(lines.words, source);
}

std::vector<std::string> parse_vocabulary(std::span<const std::uint8_t> bytes,
                                          const std::string& source,
                                          std::optional<MatrixFileIdentity>* pair) {
  return detail::index_vocabulary(bytes, source, pair).take_keys();
}

std::string serialize_vocabulary(const std::vector<std::string>& words,
                                 const std::optional<MatrixFileIdentity>& pair) {
  std::string out;
  for (const std::string& w : words) {
    const std::string problem = detail::word_problem(w);
    if (!problem.empty()) throw ValueError("vocabulary: " + problem);
    out += w;
    out += '\n';
  }
  if (pair) {
    out += detail::pair_line(*pair);
    out += '\n';
  }
  return out;
}

WordVectors parse_vectors_safetensors(std::span<const std::uint8_t> bytes,
                                      const std::string& source,
                                      const std::vector<std::string>* side_vocabulary) {
  return detail::vectors_from_safetensors(parse_safetensors(bytes, source), source,
                                          side_vocabulary);
}

WordVectors detail::vectors_from_safetensors(SafetensorsContents&& contents,
                                             const std::string& source,
                                             const std::vector<std::string>* side_vocabulary,
                                             bool check_values) {
  Tensor* matrix = nullptr;
  for (auto& [name, tensor] : contents.tensors) {
    if (name == "weight") matrix = &tensor;
  }
  if (matrix == nullptr) throw IoError(source, "no tensor named 'weight'");
  if (matrix->dtype() != DType::Float32 || matrix->dim() != 2 || matrix->size(1) < 1) {
    throw IoError(source, "tensor 'weight' must be F32 [V, D] with D >= 1, found " +
                              std::string(safetensors_dtype_name(matrix->dtype())) + " " +
                              shape_string(matrix->shape()));
  }
  std::vector<std::string> words;
  const auto it = contents.metadata.find("vocabulary");
  if (it != contents.metadata.end()) {
    if (matrix->size(0) > 0) words = split_words(it->second, source, false, "metadata vocabulary");
  } else if (side_vocabulary != nullptr) {
    words = *side_vocabulary;
  } else {
    throw IoError(source, "no \"vocabulary\" metadata and no vocabulary side file");
  }
  if (static_cast<std::int64_t>(words.size()) != matrix->size(0)) {
    throw IoError(source, std::to_string(words.size()) + " words for the " +
                              std::to_string(matrix->size(0)) + " rows of 'weight'");
  }
  if (check_values) detail::check_finite(source, words, *matrix);
  return WordVectors{std::move(words), std::move(*matrix)};
}

}  // namespace embedkit::io
