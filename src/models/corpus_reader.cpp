#include "embedkit/models/corpus_reader.hpp"

#include <sys/stat.h>

#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/core/utf8.hpp"
#include "io/gzip_file.hpp"

namespace embedkit::models {

namespace {

constexpr std::size_t kBufferSize = 1 << 18;

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

CorpusReader::CorpusReader(std::filesystem::path path, bool validate)
    : path_(std::move(path)), validate_(validate), buf_(kBufferSize) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw IoError(path_.string(), "is a directory");
    // A pipe read to its end is empty the next time (training would then run on nothing), and
    // a FIFO's next open waits for a writer that never comes: refuse before opening, which for
    // a FIFO would block already.
    if (!S_ISREG(st.st_mode)) {
      throw IoError(path_.string(),
                    "not a regular file (a pipe, FIFO, socket or device): a corpus is read more "
                    "than once and read in slices, so it must be a file (save the stream to a "
                    "file; `embedkit train` does this itself for '-' and pipes)");
    }
  }
  file_ = std::make_unique<io::detail::GzipFile>(path_, kBufferSize);
}

CorpusReader::~CorpusReader() = default;

bool CorpusReader::fill() {
  buf_start_ += end_;
  pos_ = 0;
  end_ = file_->read(buf_.data(), buf_.size());
  return end_ > 0;
}

CorpusReader::Event CorpusReader::next() {
  if (pending_newline_) {
    // The newline that ended the previous token.
    pending_newline_ = false;
    event_offset_ = position_ - 1;
    return Event::EndOfLine;
  }
  // Skip whitespace up to a token, a newline or the end.
  for (;;) {
    if (pos_ == end_ && !fill()) {
      event_offset_ = position_;
      return Event::EndOfFile;
    }
    const unsigned char c = buf_[pos_];
    if (!is_space(c)) break;
    ++pos_;
    ++position_;
    if (c == '\n') {
      ++line_;
      event_offset_ = position_ - 1;
      return Event::EndOfLine;
    }
  }
  event_offset_ = position_;
  word_.clear();
  for (;;) {
    if (pos_ == end_ && !fill()) break;
    // The token's bytes in this buffer, appended at once.
    std::size_t stop = pos_;
    while (stop < end_ && !is_space(buf_[stop])) ++stop;
    word_.append(reinterpret_cast<const char*>(buf_.data() + pos_), stop - pos_);
    position_ += stop - pos_;
    pos_ = stop;
    if (stop < end_) {
      // Consume the separator; a newline is reported by the next call.
      if (buf_[pos_] == '\n') {
        pending_newline_ = true;
        ++line_;
      }
      ++pos_;
      ++position_;
      break;
    }
  }
  if (validate_) validate_word();
  return Event::Word;
}

void CorpusReader::validate_word() const {
  const std::string_view w = word_;
  for (std::size_t i = 0; i < w.size();) {
    if (w[i] == '\0') {
      throw IoError(path_.string(), "NUL byte at byte offset " + std::to_string(event_offset_ + i) +
                                        " (line " + std::to_string(line_ - pending_newline_) +
                                        "): not a text corpus");
    }
    const std::size_t n = utf8_sequence_length(w, i);
    if (n == 0) {
      throw IoError(path_.string(), "invalid UTF-8 at byte offset " +
                                        std::to_string(event_offset_ + i) + " (line " +
                                        std::to_string(line_ - pending_newline_) +
                                        "): not a UTF-8 text corpus");
    }
    i += n;
  }
}

void CorpusReader::seek(std::uint64_t offset) {
  pending_newline_ = false;
  pos_ = end_ = 0;
  line_ = 0;
  // Read from the byte before, to see whether `offset` starts a token or cuts one.
  const std::uint64_t from = offset == 0 ? 0 : offset - 1;
  file_->seek(from);
  buf_start_ = from;
  position_ = from;
  if (offset == 0) return;
  if (!fill()) return;
  if (is_space(buf_[0])) {
    ++pos_;
    ++position_;
    return;
  }
  // Inside a token: skip to the whitespace after it (the previous slice reads that token).
  for (;;) {
    while (pos_ < end_ && !is_space(buf_[pos_])) {
      ++pos_;
      ++position_;
    }
    if (pos_ < end_ || !fill()) return;
  }
}

}  // namespace embedkit::models
