// A strict pull parser for JSON (RFC 8259), for headers read from untrusted files.
//
// It builds no tree: the caller walks the text with the shape it expects (an object of objects
// of strings and integer arrays for safetensors), so memory stays proportional to what is kept,
// whatever the input holds. Everything RFC 8259 forbids is an error: raw control characters in
// strings, invalid UTF-8, lone surrogates, bad escapes, leading zeros, trailing commas. A syntax
// error throws JsonSyntaxError with the byte offset, which the caller turns into its own error
// naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "embedkit/core/utf8.hpp"

namespace embedkit::io::detail {

class JsonSyntaxError : public std::runtime_error {
 public:
  JsonSyntaxError(std::size_t offset, const std::string& what)
      : std::runtime_error(what), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

using embedkit::is_valid_utf8;  // embedkit/core/utf8.hpp
using embedkit::utf8_sequence_length;

class JsonCursor {
 public:
  explicit JsonCursor(std::string_view text) : text_(text) {}

  // The next non-whitespace character, or '\0' at the end of the text (a NUL byte in the text
  // is never valid JSON outside a string, so the two cannot be confused by a caller that then
  // expects something specific).
  char peek();
  // Consumes `c` (after whitespace) when it is next; returns whether it was.
  bool consume(char c);
  // Consumes `c` (after whitespace) or throws, saying what was being parsed.
  void expect(char c, std::string_view context);
  // A string value, unescaped and checked to be valid UTF-8.
  std::string read_string(std::string_view context);
  // A number that must be a non-negative integer without fraction or exponent and fit in
  // 64 bits (JSON itself allows "1.0" and "1e3"; a tensor extent or offset written so is
  // rejected, as the reference implementation does).
  std::uint64_t read_uint64(std::string_view context);
  // True when only whitespace is left.
  bool at_end();

  std::size_t offset() const { return pos_; }
  [[noreturn]] void fail(const std::string& what) const;

  // The kind of value that starts at the next non-whitespace character, for error messages.
  std::string_view describe_next();

 private:
  void skip_whitespace();
  void append_utf8(std::string& out, std::uint32_t code_point);
  std::uint32_t read_hex4();

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace embedkit::io::detail
