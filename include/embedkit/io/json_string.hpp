// Strings as JSON text: the one escaper of all the JSON embedkit writes (safetensors headers,
// the command's --json output). The string is quoted; '"' and '\' are escaped with a backslash,
// control characters (below U+0020) as \u00XX with lowercase hex digits, except where `controls`
// allows the short forms; every other byte passes through as it is, so the caller must give
// valid UTF-8 (as JSON requires).
#pragma once

#include <string>
#include <string_view>

namespace embedkit::io {

enum class JsonControlEscapes {
  // Every control character as \u00XX: what safetensors headers written by embedkit have always
  // held (a newline in metadata is \u000a), so the files stay byte for byte the same.
  AllUnicode,
  // "\n" and "\t" for newline and tab, easier to read; the other control characters as \u00XX.
  ShortNewlineAndTab,
};

void append_json_string(std::string& out, std::string_view text, JsonControlEscapes controls);

}  // namespace embedkit::io
