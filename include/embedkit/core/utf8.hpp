// Well-formed UTF-8 (Unicode table 3-7: no overlong forms, surrogates or values above U+10FFFF),
// the one check every reader and message writer uses: words in vector files, JSON strings,
// corpus tokens, text echoed to a terminal.
#pragma once

#include <cstddef>
#include <string_view>

namespace embedkit {

// The length of the well-formed UTF-8 sequence starting at text[pos] (1 to 4), or 0 when the
// bytes there are not one. pos < text.size().
std::size_t utf8_sequence_length(std::string_view text, std::size_t pos);
bool is_valid_utf8(std::string_view text);

}  // namespace embedkit
