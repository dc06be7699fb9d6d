// Streams whitespace-separated tokens out of a text corpus, plain or gzip-compressed (zlib
// detects which from the file's first bytes), without ever holding the whole file in memory.
//
// A token is a maximal run of bytes other than ' ', '\t', '\n', '\v', '\f', '\r'. A newline ends
// a sentence (word2vec's context windows never cross one). With validation on, a token holding
// a NUL byte or bytes that are not well-formed UTF-8 is an IoError that names the file, the byte
// offset (in the uncompressed text) and the line, so binary garbage is refused, not trained on.
// A gzip file cut short (its compressed data ends before the gzip trailer) or corrupted is an
// IoError naming the byte of the compressed file where reading stopped: a partial corpus is
// never taken for the whole one.
//
// The corpus must be a regular file (it is reopened and read in slices): a pipe, FIFO, socket
// or device is an IoError at once (a FIFO is not even opened, which would block).
//
// Offsets are positions in the uncompressed text; seek() lets several threads each read a slice
// of one corpus (a real seek for plain files; zlib re-decompresses up to the offset for gzip).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace embedkit::io::detail {
class GzipFile;
}  // namespace embedkit::io::detail

namespace embedkit::models {

class CorpusReader {
 public:
  enum class Event { Word, EndOfLine, EndOfFile };

  // Opens the corpus; throws IoError when it cannot be opened or is not a regular file.
  explicit CorpusReader(std::filesystem::path path, bool validate = true);
  ~CorpusReader();
  CorpusReader(const CorpusReader&) = delete;
  CorpusReader& operator=(const CorpusReader&) = delete;

  // The next token (Event::Word, then word() holds it until the next call), the end of a line,
  // or the end of the file. Throws IoError on a read error or (validating) invalid text.
  Event next();
  std::string_view word() const { return word_; }
  // Uncompressed byte offset of the last token's first byte (or of the newline / the end).
  std::uint64_t offset() const { return event_offset_; }
  // Uncompressed bytes consumed so far.
  std::uint64_t position() const { return position_; }
  // Lines seen so far (1-based line of the current position).
  std::uint64_t line() const { return line_; }

  // Moves to `offset`; when it falls inside a token, that token is skipped (it belongs to the
  // reader of the slice before). line() is unknown after a seek and reads 0.
  void seek(std::uint64_t offset);

  const std::filesystem::path& path() const { return path_; }

 private:
  bool fill();  // refills buf_; false at the end of the file (a cut gzip stream: IoError)
  void validate_word() const;

  std::filesystem::path path_;
  std::unique_ptr<io::detail::GzipFile> file_;  // plain or gzip (io/gzip_file.hpp)
  bool validate_;
  std::vector<unsigned char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint64_t buf_start_ = 0;  // uncompressed offset of buf_[0]
  std::uint64_t position_ = 0;
  std::uint64_t event_offset_ = 0;
  std::uint64_t line_ = 1;
  std::string word_;
  bool pending_newline_ = false;
};

}  // namespace embedkit::models
