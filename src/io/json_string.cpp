#include "embedkit/io/json_string.hpp"

namespace embedkit::io {

void append_json_string(std::string& out, std::string_view text, JsonControlEscapes controls) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool short_forms = controls == JsonControlEscapes::ShortNewlineAndTab;
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (short_forms && c == '\n') {
      out += "\\n";
    } else if (short_forms && c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
}

}  // namespace embedkit::io
