// The line that ties a .vocab side file to the matrix file it was written with:
//   "#embedkit-pair format=1 matrix-bytes=<decimal> matrix-xxh64=<16 lowercase hex digits>"
// It holds spaces, so no word (words hold no whitespace) can be taken for it, and it is the
// vocabulary's last line, so a program that reads the words line by line and ignores it still
// finds every word on the line of its matrix row.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <string_view>

// Header-only: xxHash compiles XXH64 into this file (CMakeLists.txt says why).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "io/display_name.hpp"
#include "io/vector_format_detail.hpp"

namespace embedkit::io {
namespace {

constexpr std::string_view kFormatField = "format=";
constexpr std::string_view kBytesField = "matrix-bytes=";
constexpr std::string_view kHashField = "matrix-xxh64=";
constexpr std::string_view kFormatVersion = "1";

bool take_field(std::string_view& text, std::string_view field, std::string_view& value) {
  if (!text.starts_with(field)) return false;
  text.remove_prefix(field.size());
  const std::size_t space = text.find(' ');
  value = text.substr(0, space);
  text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
  return true;
}

bool parse_hex64(std::string_view text, std::uint64_t& out) {
  if (text.size() != 16) return false;
  std::uint64_t v = 0;
  for (const char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<std::uint64_t>(digit);
  }
  out = v;
  return true;
}

}  // namespace

MatrixFileIdentity identify_matrix_file(std::span<const std::uint8_t> file_bytes) {
  return MatrixFileIdentity{
      static_cast<std::uint64_t>(file_bytes.size()),
      static_cast<std::uint64_t>(XXH64(file_bytes.data(), file_bytes.size(), 0))};
}

std::string describe_matrix_file_identity(const MatrixFileIdentity& identity) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, identity.xxh64);
  return std::to_string(identity.bytes) + " bytes, xxh64 " + hex;
}

namespace detail {

bool is_pair_line(std::string_view line) {
  return line.starts_with(kPairLinePrefix);
}

std::string pair_line(const MatrixFileIdentity& identity) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, identity.xxh64);
  std::string line(kPairLinePrefix);
  line += kFormatField;
  line += kFormatVersion;
  line += ' ';
  line += kBytesField;
  line += std::to_string(identity.bytes);
  line += ' ';
  line += kHashField;
  line += hex;
  return line;
}

MatrixFileIdentity parse_pair_line(std::string_view line, const std::string& source,
                                   const std::string& where) {
  const std::string_view original = line;
  const auto malformed = [&]() -> IoError {
    return IoError(source, where + ": malformed pair line " + display_name(original) +
                               " (expected '" + std::string(kPairLinePrefix) +
                               "format=" + std::string(kFormatVersion) +
                               " matrix-bytes=N matrix-xxh64=<16 hex digits>')");
  };
  line.remove_prefix(kPairLinePrefix.size());
  std::string_view version, bytes_text, hash_text;
  if (!take_field(line, kFormatField, version)) throw malformed();
  if (version != kFormatVersion) {
    std::int64_t number = 0;
    if (!parse_count(version, number)) throw malformed();
    throw IoError(source, where + ": pair line of format " + std::string(version) +
                              ", newer than this embedkit reads (" + std::string(kFormatVersion) +
                              ")");
  }
  MatrixFileIdentity identity;
  std::int64_t size = 0;
  if (!take_field(line, kBytesField, bytes_text) || !parse_count(bytes_text, size) ||
      !take_field(line, kHashField, hash_text) || !parse_hex64(hash_text, identity.xxh64) ||
      !line.empty()) {
    throw malformed();
  }
  identity.bytes = static_cast<std::uint64_t>(size);
  return identity;
}

}  // namespace detail
}  // namespace embedkit::io
