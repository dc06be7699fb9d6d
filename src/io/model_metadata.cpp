#include "io/model_metadata.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>

#include "embedkit/core/float_text.hpp"
#include "io/display_name.hpp"

namespace embedkit::io::detail {

namespace {

std::string not_a_model(const ModelFormat& format) {
  return "not an embedkit " + std::string(format.kind) + ": ";
}

std::string quoted_key(std::string_view key) {
  return "metadata '" + std::string(key) + "'";
}

// The %XX escape of the escaped lists: what is not printable ASCII, and '%' itself.
bool needs_escape(unsigned char byte) {
  return byte == '%' || byte < 0x20 || byte >= 0x7f;
}

}  // namespace

void mark_model_format(Metadata& metadata, const ModelFormat& format) {
  metadata[std::string(format.version_key)] = std::string(format.version);
  if (!format.kind_key.empty()) {
    metadata[std::string(format.kind_key)] = std::string(format.kind_value);
  }
}

void check_model_format(const std::string& file, const Metadata& metadata,
                        const ModelFormat& format) {
  const auto version = metadata.find(std::string(format.version_key));
  if (version == metadata.end() && format.version_optional) return;
  if (!format.kind_key.empty()) {
    const auto kind = metadata.find(std::string(format.kind_key));
    if (kind == metadata.end()) {
      throw IoError(file, not_a_model(format) + quoted_key(format.kind_key) + " is missing");
    }
    if (kind->second != format.kind_value) {
      throw IoError(file, not_a_model(format) + quoted_key(format.kind_key) + " is " +
                              display_name(kind->second));
    }
  }
  if (version == metadata.end()) {
    throw IoError(file, not_a_model(format) + quoted_key(format.version_key) + " is missing");
  }
  if (version->second != format.version) {
    throw IoError(file, std::string(format.kind) + " layout version " +
                            display_name(version->second) +
                            " is not the one this embedkit reads ('" + std::string(format.version) +
                            "'); written by a newer embedkit?");
  }
}

ModelMetadataWriter::ModelMetadataWriter(const ModelFormat& format) : format_(format) {
  mark_model_format(metadata_, format_);
}

void ModelMetadataWriter::set_text(std::string_view key, std::string value) {
  metadata_[std::string(key)] = std::move(value);
}

void ModelMetadataWriter::set_int(std::string_view key, std::int64_t value) {
  set_text(key, std::to_string(value));
}

void ModelMetadataWriter::set_uint(std::string_view key, std::uint64_t value) {
  set_text(key, std::to_string(value));
}

void ModelMetadataWriter::set_number(std::string_view key, double value) {
  set_text(key, shortest_float_text(value));
}

void ModelMetadataWriter::set_flag(std::string_view key, bool value) {
  set_text(key, value ? "1" : "0");
}

void ModelMetadataWriter::set_escaped_list(std::string_view key,
                                           const std::vector<std::string>& values) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += '\n';
    for (const char c : values[i]) {
      const auto byte = static_cast<unsigned char>(c);
      if (needs_escape(byte)) {
        out += '%';
        out += kHex[byte >> 4];
        out += kHex[byte & 15];
      } else {
        out += c;
      }
    }
  }
  set_text(key, std::move(out));
}

void ModelMetadataWriter::set_lines(std::string_view key, const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].find('\n') != std::string::npos) {
      throw ValueError(std::string(format_.kind) + ": not saved: " + quoted_key(key) +
                       " cannot hold " + display_name(values[i]) + ": it contains a newline");
    }
    if (i > 0) out += '\n';
    out += values[i];
  }
  set_text(key, std::move(out));
}

ModelMetadataReader::ModelMetadataReader(std::string file, Metadata metadata,
                                         const ModelFormat& format)
    : file_(std::move(file)), metadata_(std::move(metadata)), format_(format) {
  check_model_format(file_, metadata_, format_);
}

IoError ModelMetadataReader::error(const std::string& what) const {
  return IoError(file_, not_a_model(format_) + what);
}

void ModelMetadataReader::fail_value(std::string_view key, const std::string& what) const {
  throw error(quoted_key(key) + " is not " + what + ": " + display_name(text(key)));
}

const std::string& ModelMetadataReader::text(std::string_view key) const {
  const auto it = metadata_.find(std::string(key));
  if (it == metadata_.end()) throw error(quoted_key(key) + " is missing");
  return it->second;
}

template <class Int>
Int ModelMetadataReader::whole_number(std::string_view key) const {
  const std::string& value = text(key);
  Int out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    fail_value(key, "a whole number from " + std::to_string(std::numeric_limits<Int>::min()) +
                        " to " + std::to_string(std::numeric_limits<Int>::max()));
  }
  return out;
}

std::int64_t ModelMetadataReader::int64(std::string_view key) const {
  return whole_number<std::int64_t>(key);
}

std::uint64_t ModelMetadataReader::uint64(std::string_view key) const {
  return whole_number<std::uint64_t>(key);
}

double ModelMetadataReader::number(std::string_view key) const {
  const std::string& value = text(key);
  double out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(out)) {
    fail_value(key, "a finite number");
  }
  return out;
}

bool ModelMetadataReader::flag(std::string_view key) const {
  const std::string& value = text(key);
  if (value != "0" && value != "1") fail_value(key, "0 or 1");
  return value == "1";
}

std::vector<std::string> ModelMetadataReader::escaped_list(std::string_view key) const {
  const std::string& value = text(key);
  std::vector<std::string> out;
  if (value.empty()) return out;
  auto digit = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw error(quoted_key(key) + " holds a bad %XX escape");
  };
  std::string current;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\n') {
      out.push_back(std::move(current));
      current.clear();
    } else if (c == '%') {
      if (i + 2 >= value.size()) throw error(quoted_key(key) + " holds a truncated %XX escape");
      current += static_cast<char>(digit(value[i + 1]) * 16 + digit(value[i + 2]));
      i += 2;
    } else {
      current += c;
    }
  }
  out.push_back(std::move(current));
  return out;
}

std::vector<std::string> ModelMetadataReader::lines(std::string_view key) const {
  const std::string& value = text(key);
  std::vector<std::string> out;
  if (value.empty()) return out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = value.find('\n', begin);
    if (end == std::string::npos) {
      out.push_back(value.substr(begin));
      return out;
    }
    out.push_back(value.substr(begin, end - begin));
    begin = end + 1;
  }
}

}  // namespace embedkit::io::detail
