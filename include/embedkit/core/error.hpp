// embedkit's exceptions. Every public entry point validates its input completely before it
// writes anything, so catching one of these means nothing was changed.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace embedkit {

// Base of every error embedkit throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// An id (or other index) outside its valid range [low, high). Names where it was found.
class IndexError : public Error {
 public:
  IndexError(const std::string& what_ids, std::int64_t position, std::int64_t value,
             std::int64_t low, std::int64_t high);

  std::int64_t position() const { return position_; }
  std::int64_t value() const { return value_; }
  std::int64_t low() const { return low_; }
  std::int64_t high() const { return high_; }

 private:
  std::int64_t position_;
  std::int64_t value_;
  std::int64_t low_;
  std::int64_t high_;
};

// An argument with the wrong value or shape, or options that cannot be combined.
class ValueError : public Error {
 public:
  explicit ValueError(const std::string& what) : Error(what) {}
};

// A key (a word, a label, an item id) that a string -> row map does not hold (core/key_index.hpp).
// Every map's throwing lookup says it in one shape: "<kind> '<key>' is not in the <container>",
// e.g. "word 'princess' is not in the vocabulary". A ValueError, so callers that catch bad
// arguments catch it too.
class KeyError : public ValueError {
 public:
  KeyError(std::string_view kind, std::string_view key, std::string_view container);

  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// An argument with the wrong element type.
class TypeError : public Error {
 public:
  explicit TypeError(const std::string& what) : Error(what) {}
};

// A file that cannot be read or written, or whose contents are not what its format promises
// (truncated, corrupted, wrong layout). The message starts with the file's path.
class IoError : public Error {
 public:
  IoError(const std::string& path, const std::string& what, int error_number = 0)
      : Error(path + ": " + what), path_(path), error_number_(error_number) {}

  const std::string& path() const { return path_; }
  // The errno of the system call that failed (ENOSPC, EACCES, ...), or 0 when the error is not
  // one (a malformed file) or was not recorded. Python raises the OSError subclass it names.
  int error_number() const { return error_number_; }

 private:
  std::string path_;
  int error_number_ = 0;
};

}  // namespace embedkit
