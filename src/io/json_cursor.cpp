#include "io/json_cursor.hpp"

#include <cstdio>
#include <limits>

namespace embedkit::io::detail {

namespace {

unsigned char byte_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

void JsonCursor::fail(const std::string& what) const {
  throw JsonSyntaxError(pos_, what);
}

void JsonCursor::skip_whitespace() {
  // RFC 8259 whitespace only: no form feeds, no vertical tabs, no NBSP.
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                 text_[pos_] == '\r')) {
    ++pos_;
  }
}

char JsonCursor::peek() {
  skip_whitespace();
  return pos_ < text_.size() ? text_[pos_] : '\0';
}

bool JsonCursor::consume(char c) {
  if (peek() == c && pos_ < text_.size()) {
    ++pos_;
    return true;
  }
  return false;
}

void JsonCursor::expect(char c, std::string_view context) {
  if (!consume(c)) {
    fail(std::string("expected '") + c + "' " + std::string(context) + ", found " +
         std::string(describe_next()));
  }
}

bool JsonCursor::at_end() {
  skip_whitespace();
  return pos_ == text_.size();
}

std::string_view JsonCursor::describe_next() {
  const char c = peek();
  if (pos_ >= text_.size()) return "the end of the header";
  switch (c) {
    case '{':
      return "an object";
    case '[':
      return "an array";
    case '"':
      return "a string";
    case 't':
    case 'f':
    case 'n':
      return "a literal (true, false or null)";
    case ',':
      return "','";
    case ':':
      return "':'";
    case '}':
      return "'}'";
    case ']':
      return "']'";
    default:
      break;
  }
  if (c == '-' || is_digit(c)) return "a number";
  return "an unexpected character";
}

std::uint32_t JsonCursor::read_hex4() {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (pos_ >= text_.size()) fail("unterminated \\u escape in string");
    const char c = text_[pos_];
    std::uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      fail("\\u escape needs four hex digits");
    }
    v = v * 16 + digit;
    ++pos_;
  }
  return v;
}

void JsonCursor::append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string JsonCursor::read_string(std::string_view context) {
  if (peek() != '"') {
    fail("expected a string " + std::string(context) + ", found " + std::string(describe_next()));
  }
  ++pos_;
  std::string out;
  for (;;) {
    if (pos_ >= text_.size()) fail("unterminated string " + std::string(context));
    const unsigned char c = byte_at(text_, pos_);
    if (c == '"') {
      ++pos_;
      return out;
    }
    if (c < 0x20) fail("raw control character in string " + std::string(context));
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(text_, pos_);
      if (n == 0) fail("invalid UTF-8 in string " + std::string(context));
      out.append(text_.substr(pos_, n));
      pos_ += n;
      continue;
    }
    if (c != '\\') {
      out += static_cast<char>(c);
      ++pos_;
      continue;
    }
    ++pos_;
    if (pos_ >= text_.size()) fail("unterminated escape in string " + std::string(context));
    const char e = text_[pos_++];
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        std::uint32_t cp = read_hex4();
        if (cp >= 0xdc00 && cp <= 0xdfff) fail("lone low surrogate \\u escape in string");
        if (cp >= 0xd800 && cp <= 0xdbff) {
          // A high surrogate must be followed by an escaped low one: together one code point.
          if (text_.size() - pos_ < 2 || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
            fail("lone high surrogate \\u escape in string");
          }
          pos_ += 2;
          const std::uint32_t low_half = read_hex4();
          if (low_half < 0xdc00 || low_half > 0xdfff) {
            fail("high surrogate \\u escape not followed by a low surrogate");
          }
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low_half - 0xdc00);
        }
        append_utf8(out, cp);
        break;
      }
      default:
        --pos_;
        fail("invalid escape in string " + std::string(context));
    }
  }
}

std::uint64_t JsonCursor::read_uint64(std::string_view context) {
  const char first = peek();
  if (first == '-') {
    fail("expected a non-negative integer " + std::string(context) + ", found a negative number");
  }
  if (!is_digit(first)) {
    fail("expected a non-negative integer " + std::string(context) + ", found " +
         std::string(describe_next()));
  }
  const std::size_t start = pos_;
  std::uint64_t value = 0;
  while (pos_ < text_.size() && is_digit(text_[pos_])) {
    const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      fail("integer " + std::string(context) + " does not fit in 64 bits");
    }
    value = value * 10 + digit;
    ++pos_;
  }
  if (text_[start] == '0' && pos_ - start > 1) {
    pos_ = start;
    fail("number with a leading zero " + std::string(context));
  }
  if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
    fail("expected an integer " + std::string(context) +
         ", found a number with a fraction or "
         "exponent");
  }
  return value;
}

}  // namespace embedkit::io::detail
