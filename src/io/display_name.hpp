// Names read from a file, made fit for an error message: quoted, control bytes shown as \xNN
// (a hostile name cannot garble a terminal or a log line), and cut after 120 bytes (a name
// can be megabytes long).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace embedkit::io::detail {

inline std::string display_name(std::string_view name) {
  constexpr std::size_t kMaxShown = 120;
  std::string out("'");
  for (std::size_t i = 0; i < name.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\x%02x", c);
      out += escape;
    } else {
      out += name[i];
    }
  }
  if (name.size() > kMaxShown) out += "...";
  out += '\'';
  return out;
}

}  // namespace embedkit::io::detail
