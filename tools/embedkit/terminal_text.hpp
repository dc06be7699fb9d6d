// Text that came from the user or from a file (a path, a word, an exception's message that
// quotes them), made safe to print on a terminal: bytes that are not well-formed UTF-8, C0
// control bytes (newline and escape included), DEL and the C1 controls U+0080..U+009F (which
// some terminals obey as escape sequences) are shown as \xNN, one per byte. Everything else
// passes unchanged, so a message in any script still reads as written.
//
// Every message the command prints about a failure goes through printable() once, at the
// point where it is written (main's error handler, warnings): a hostile file name or word can
// neither garble the terminal nor forge extra lines in a log.
//
// print_error() writes a command's error line with one write: under mpirun every rank reports
// the same error to one shared stderr, and a line written in pieces came out interleaved.
#pragma once

#include <cstddef>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "embedkit/core/utf8.hpp"

namespace embedkit::cli {

namespace detail {

inline void append_escaped_byte(std::string& out, char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
  out += buf;
}

}  // namespace detail

inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    const auto b0 = static_cast<unsigned char>(text[i]);
    const bool control = n == 1 && (b0 < 0x20 || b0 == 0x7F);
    // U+0080..U+009F are encoded C2 80..C2 9F.
    const bool c1_control = n == 2 && b0 == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (n == 0 || control || c1_control) {
      const std::size_t bytes = n == 0 ? 1 : n;
      for (std::size_t k = 0; k < bytes; ++k) detail::append_escaped_byte(out, text[i + k]);
      i += bytes;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

// "embedkit COMMAND: error: MESSAGE\n" on stderr in one write; MESSAGE goes through printable().
inline void print_error(std::string_view command, std::string_view message) {
  std::string line = "embedkit ";
  line.append(command);
  line += ": error: ";
  line += printable(message);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// The error line of the exception being handled (call it inside a catch block): its message,
// or for std::bad_alloc what running out of memory means here.
inline void print_current_error(std::string_view command) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    // Where a size is known in advance the command says how much it needs before trying;
    // this is the rest (a size that no check foresaw).
    print_error(command,
                "out of memory (the input or the options ask for more memory than this machine "
                "can give)");
  } catch (const std::exception& e) {
    // embedkit::Error and everything else; messages quote paths and words from the user or
    // from files, which may hold any bytes.
    print_error(command, e.what());
  } catch (...) {
    print_error(command, "an unknown error");
  }
}

}  // namespace embedkit::cli
