// Word-vector files: format names, guessing, dispatch, and the checks shared by every format.
#include "embedkit/io/vector_formats.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <unordered_set>

#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/io/safetensors.hpp"
#include "io/directory_lock.hpp"
#include "io/display_name.hpp"
#include "io/fault_point.hpp"
#include "io/gzip_file.hpp"
#include "io/json_cursor.hpp"
#include "io/vector_format_detail.hpp"

namespace embedkit::io {
namespace detail {

std::string word_problem(std::string_view word) {
  if (word.empty()) return "an empty word";
  if (!is_valid_utf8(word)) return "word " + display_name(word) + " is not valid UTF-8";
  for (const char c : word) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
      return "word " + display_name(word) + " holds whitespace";
    }
  }
  return "";
}

struct WordChecker::Impl {
  std::unordered_set<std::string> seen;
};

WordChecker::WordChecker(std::size_t expected) : impl_(new Impl) {
  impl_->seen.reserve(expected);
}
WordChecker::~WordChecker() {
  delete impl_;
}

void WordChecker::check(const std::string& source, const std::string& where,
                        const std::string& word) {
  const std::string problem = word_problem(word);
  if (!problem.empty()) throw IoError(source, where + ": " + problem);
  if (!impl_->seen.insert(word).second) {
    throw IoError(source, where + ": word " + display_name(word) + " appears twice");
  }
}

bool parse_count(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

std::string row_name(std::int64_t row, std::string_view word) {
  return "row " + std::to_string(row) + " (" + display_name(word) + ")";
}

void check_finite(const std::string& source, const std::vector<std::string>& words,
                  const Tensor& matrix) {
  const float* data = matrix.data<float>();
  const std::int64_t dim = matrix.size(1);
  for (std::int64_t i = 0; i < matrix.numel(); ++i) {
    if (!std::isfinite(data[i])) {
      throw IoError(source, row_name(i / dim, words[static_cast<std::size_t>(i / dim)]) +
                                ": value " + std::to_string(i % dim + 1) + " is not finite");
    }
  }
}

Tensor matrix_from(std::vector<float>&& values, std::int64_t rows, std::int64_t dim) {
  Tensor t = Tensor::empty({rows, dim}, DType::Float32);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(float));
  return t;
}

}  // namespace detail

std::string_view vector_format_name(VectorFormat format) {
  switch (format) {
    case VectorFormat::Word2VecText:
      return "word2vec";
    case VectorFormat::FastTextVec:
      return "vec";
    case VectorFormat::Word2VecBinary:
      return "word2vec-binary";
    case VectorFormat::GloVe:
      return "glove";
    case VectorFormat::Npy:
      return "npy";
    case VectorFormat::Safetensors:
      return "safetensors";
    case VectorFormat::FastTextModel:
      return "fasttext-bin";
  }
  return "?";
}

VectorFormat parse_vector_format(std::string_view name) {
  if (name == "word2vec" || name == "txt") return VectorFormat::Word2VecText;
  if (name == "vec" || name == "fasttext") return VectorFormat::FastTextVec;
  if (name == "word2vec-binary" || name == "bin") return VectorFormat::Word2VecBinary;
  if (name == "glove") return VectorFormat::GloVe;
  if (name == "npy") return VectorFormat::Npy;
  if (name == "safetensors") return VectorFormat::Safetensors;
  if (name == "fasttext-bin") return VectorFormat::FastTextModel;
  throw ValueError("unknown vector format " + detail::display_name(name) +
                   " (choose word2vec, vec, word2vec-binary, glove, npy, safetensors or "
                   "fasttext-bin)");
}

std::optional<VectorFormat> guess_vector_format(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext == ".gz") {
    // Compressed text or word2vec binary: the format is the extension before ".gz".
    ext = path.stem().extension().string();
    if (ext != ".txt" && ext != ".vec" && ext != ".bin") return std::nullopt;
  }
  if (ext == ".txt") return VectorFormat::Word2VecText;
  if (ext == ".vec") return VectorFormat::FastTextVec;
  if (ext == ".bin") return VectorFormat::Word2VecBinary;
  if (ext == ".npy") return VectorFormat::Npy;
  if (ext == ".safetensors") return VectorFormat::Safetensors;
  return std::nullopt;
}

std::filesystem::path vocabulary_path_for(const std::filesystem::path& matrix_path) {
  std::filesystem::path p = matrix_path;
  p.replace_extension(".vocab");
  return p;
}

namespace {

// The file's bytes, decompressed when they are gzip (a regular file only: a pipe is read once,
// so a compressed one is refused with the way round it).
std::vector<std::uint8_t> read_maybe_gzip(const std::filesystem::path& path) {
  if (detail::classify_input(path) == detail::InputKind::RegularFile) {
    std::uint8_t head[2] = {};
    std::ifstream probe(path, std::ios::binary);
    if (probe.read(reinterpret_cast<char*>(head), 2) && detail::has_gzip_magic(head)) {
      return detail::read_gzip_file(path, detail::default_stream_limit());
    }
  }
  std::vector<std::uint8_t> bytes = detail::read_file_bytes(path);
  if (detail::has_gzip_magic(bytes)) {
    throw IoError(path.string(),
                  "gzip-compressed data from a pipe is not read: decompress it "
                  "first (zcat FILE | ...), or pass the .gz file itself");
  }
  return bytes;
}

// Whether the first line is word2vec's header "V D" (two counts), not a GloVe row.
bool starts_with_header(std::span<const std::uint8_t> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::string_view line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  const std::size_t space = line.find_first_of(" \t");
  if (space == std::string_view::npos) return false;
  std::string_view second = line.substr(space + 1);
  while (!second.empty() && (second.front() == ' ' || second.front() == '\t')) {
    second.remove_prefix(1);
  }
  std::int64_t count = 0;
  return detail::parse_count(line.substr(0, space), count) && detail::parse_count(second, count);
}

VectorFormat resolve(const std::filesystem::path& path, std::optional<VectorFormat> format) {
  if (format) return *format;
  if (auto guessed = guess_vector_format(path)) return *guessed;
  throw ValueError("cannot tell the vector format of " + path.string() +
                   " from its extension (.txt, .vec, .bin, .npy, .safetensors); name it");
}

// Bug guard: a matrix named X.vocab would be its own side file (the words would overwrite the
// matrix, or be read from it).
void check_not_its_own_side_file(const std::filesystem::path& matrix_path, bool writing) {
  if (vocabulary_path_for(matrix_path) != matrix_path) return;
  throw ValueError(matrix_path.string() + ": " +
                   (writing ? "a .npy matrix cannot be written to a path ending in .vocab: its "
                              "words go to the same path with the extension .vocab, which is "
                              "the matrix's own path; name the matrix .npy"
                            : "the words of this matrix are read from the path with the "
                              "extension .vocab, which is the matrix file itself; a matrix "
                              "with a side vocabulary cannot be named .vocab"));
}

void write_string(const std::filesystem::path& path, const std::string& text) {
  write_file_atomically(path, text.data(), text.size());
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A reader of a matrix and its side vocabulary holds the directory's lock shared, so that an
// embedkit save of the pair is seen whole or not at all. Not for a pipe: its open may wait for
// a writer, and the lock must not be held that long.
void lock_pair_for_reading(const std::filesystem::path& path,
                           std::optional<detail::DirectoryLock>& lock) {
  if (detail::classify_input(path) == detail::InputKind::RegularFile) {
    lock.emplace(detail::directory_of(path), detail::DirectoryLock::Mode::Shared);
  }
}

// The words of `matrix_path`'s side file, read from `vocabulary_bytes`, after checking its
// pair line (if any) against the matrix file's bytes.
std::vector<std::string> side_words(const std::filesystem::path& matrix_path,
                                    std::span<const std::uint8_t> matrix_bytes,
                                    std::span<const std::uint8_t> vocabulary_bytes) {
  const std::string vocab = vocabulary_path_for(matrix_path).string();
  std::optional<MatrixFileIdentity> pair;
  std::vector<std::string> words = parse_vocabulary(vocabulary_bytes, vocab, &pair);
  if (pair) {
    const MatrixFileIdentity actual = identify_matrix_file(matrix_bytes);
    if (actual != *pair) {
      throw IoError(vocab, "was written with another " + matrix_path.filename().string() +
                               " (its pair line names a matrix file of " +
                               describe_matrix_file_identity(*pair) + "; " + matrix_path.string() +
                               " has " + describe_matrix_file_identity(actual) +
                               "): the two files are not one save (a save was interrupted, or "
                               "two ran at once); save them again. If you changed the matrix "
                               "yourself, delete the vocabulary's last line (the pair line)");
    }
  }
  return words;
}

}  // namespace

void check_word_vectors(const WordVectors& vectors) {
  const Tensor& m = vectors.matrix;
  if (!m.defined() || m.dtype() != DType::Float32 || m.dim() != 2 || m.size(1) < 1) {
    throw ValueError("word vectors: the matrix must be a float32 [V, D] tensor with D >= 1");
  }
  if (m.size(0) != static_cast<std::int64_t>(vectors.words.size())) {
    throw ValueError("word vectors: " + std::to_string(vectors.words.size()) +
                     " words but the matrix has " + std::to_string(m.size(0)) + " rows");
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(vectors.words.size());
  const float* data = m.data<float>();
  const std::int64_t dim = m.size(1);
  for (std::size_t i = 0; i < vectors.words.size(); ++i) {
    const std::string& w = vectors.words[i];
    const std::string problem = detail::word_problem(w);
    if (!problem.empty())
      throw ValueError("word vectors: row " + std::to_string(i) + ": " + problem);
    if (!seen.insert(w).second) {
      throw ValueError("word vectors: word " + detail::display_name(w) + " appears twice");
    }
    for (std::int64_t j = 0; j < dim; ++j) {
      if (!std::isfinite(data[static_cast<std::int64_t>(i) * dim + j])) {
        throw ValueError("word vectors: the vector of " + detail::display_name(w) +
                         " holds a non-finite value at column " + std::to_string(j));
      }
    }
  }
}

std::vector<std::filesystem::path> vector_output_files(const std::filesystem::path& path,
                                                       std::optional<VectorFormat> format) {
  if (resolve(path, format) == VectorFormat::Npy) return {path, vocabulary_path_for(path)};
  return {path};
}

WordVectors load_word_vectors(const std::filesystem::path& path,
                              std::optional<VectorFormat> format) {
  const VectorFormat f = resolve(path, format);
  const std::string name = path.string();
  switch (f) {
    case VectorFormat::Word2VecText:
    case VectorFormat::FastTextVec: {
      const std::vector<std::uint8_t> bytes = read_maybe_gzip(path);
      // Named by its extension only: a first line that is not "V D" is GloVe's first row.
      const bool header = format.has_value() || starts_with_header(bytes);
      return parse_word2vec_text(bytes, header, name);
    }
    case VectorFormat::GloVe:
      return parse_word2vec_text(read_maybe_gzip(path), false, name);
    case VectorFormat::Word2VecBinary:
    case VectorFormat::FastTextModel: {
      const std::vector<std::uint8_t> bytes = read_maybe_gzip(path);
      if (f == VectorFormat::FastTextModel || has_fasttext_magic(bytes)) {
        if (!has_fasttext_magic(bytes)) {
          throw IoError(name,
                        "not a fastText model (it does not start with fastText's magic "
                        "number)");
        }
        throw IoError(name,
                      "a fastText model: its word vectors are means of subword n-gram rows, "
                      "which models::FastTextModel computes "
                      "(FastTextModel::load(path).word_vectors()); the embedkit command reads "
                      "it as vectors");
      }
      return parse_word2vec_binary(bytes, name);
    }
    case VectorFormat::Npy: {
      check_not_its_own_side_file(path, false);
      std::vector<std::uint8_t> bytes;
      std::vector<std::uint8_t> vocabulary_bytes;
      {
        std::optional<detail::DirectoryLock> lock;
        lock_pair_for_reading(path, lock);
        bytes = detail::read_file_bytes(path);
        vocabulary_bytes = detail::read_file_bytes(vocabulary_path_for(path));
      }
      Tensor matrix = parse_npy(bytes, name);
      std::vector<std::string> words = side_words(path, bytes, vocabulary_bytes);
      if (static_cast<std::int64_t>(words.size()) != matrix.size(0)) {
        throw IoError(vocabulary_path_for(path).string(),
                      std::to_string(words.size()) + " words but " + name + " has " +
                          std::to_string(matrix.size(0)) + " rows");
      }
      detail::check_finite(name, words, matrix);
      return WordVectors{std::move(words), std::move(matrix)};
    }
    case VectorFormat::Safetensors: {
      std::vector<std::uint8_t> bytes;
      std::vector<std::uint8_t> vocabulary_bytes;
      SafetensorsContents contents;
      bool side = false;
      {
        std::optional<detail::DirectoryLock> lock;
        lock_pair_for_reading(path, lock);
        bytes = detail::read_file_bytes(path);
        contents = parse_safetensors(bytes, name);
        // The side file is read only when the metadata has no vocabulary (and must then exist).
        side = contents.metadata.count("vocabulary") == 0;
        if (side) {
          check_not_its_own_side_file(path, false);
          vocabulary_bytes = detail::read_file_bytes(vocabulary_path_for(path));
        }
      }
      std::vector<std::string> words;
      if (side) words = side_words(path, bytes, vocabulary_bytes);
      return detail::vectors_from_safetensors(std::move(contents), name, side ? &words : nullptr);
    }
  }
  throw ValueError("unknown vector format");
}

void save_word_vectors(const std::filesystem::path& path, const WordVectors& vectors,
                       std::optional<VectorFormat> format) {
  const VectorFormat f = resolve(path, format);
  if (path.extension() == ".gz") {
    // Read, not written: a .gz name over uncompressed bytes would mislead every reader.
    throw ValueError(path.string() + ": compressed vectors are read but not written; write " +
                     path.stem().string() + " and compress it (gzip)");
  }
  check_word_vectors(vectors);
  switch (f) {
    case VectorFormat::Word2VecText:
    case VectorFormat::FastTextVec:
      write_string(path, serialize_word2vec_text(vectors, true));
      return;
    case VectorFormat::GloVe:
      write_string(path, serialize_word2vec_text(vectors, false));
      return;
    case VectorFormat::Word2VecBinary:
      write_string(path, serialize_word2vec_binary(vectors));
      return;
    case VectorFormat::Npy: {
      check_not_its_own_side_file(path, true);
      // Both contents are made, then both files written and fsync'ed, before either is renamed;
      // the vocabulary names the matrix file it belongs with (see the header).
      const std::string matrix = serialize_npy(vectors.matrix);
      const std::string words =
          serialize_vocabulary(vectors.words, identify_matrix_file(as_bytes(matrix)));
      AtomicFile matrix_file(path);
      AtomicFile vocabulary_file(vocabulary_path_for(path));
      detail::fault_point("save .npy pair: temporary files created");
      matrix_file.write(matrix.data(), matrix.size());
      detail::fault_point("save .npy pair: matrix written");
      vocabulary_file.write(words.data(), words.size());
      detail::fault_point("save .npy pair: vocabulary written");
      commit_together({&vocabulary_file, &matrix_file});
      return;
    }
    case VectorFormat::Safetensors:
      save_safetensors(path, {{"weight", vectors.matrix}},
                       {{"vocabulary", detail::join_lines(vectors.words)}});
      return;
    case VectorFormat::FastTextModel:
      save_fasttext_model(path, fasttext_model_from_word_vectors(vectors));
      return;
  }
}

}  // namespace embedkit::io
