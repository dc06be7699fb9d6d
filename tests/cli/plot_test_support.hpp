// Reading back what the plot writers produce: the <text> elements of an SVG and the size in a
// PNG's header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/files.hpp"

namespace embedkit_plot_test {

using embedkit_test::read_file;

// The contents of every <text ...>...</text> element, in order (entities left escaped).
inline std::vector<std::string> svg_texts(const std::string& svg) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = svg.find("<text", pos)) != std::string::npos) {
    const std::size_t open_end = svg.find('>', pos);
    const std::size_t close = svg.find("</text>", pos);
    if (open_end == std::string::npos || close == std::string::npos || close < open_end) break;
    out.push_back(svg.substr(open_end + 1, close - open_end - 1));
    pos = close + 7;
  }
  return out;
}

// Counts of an element's opening and closing tags must match in the writer's flat output.
inline std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}

struct PngSize {
  bool valid = false;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

// The PNG signature, then the IHDR chunk first with the big-endian width and height.
inline PngSize png_size(const std::string& bytes) {
  static const unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  PngSize s;
  if (bytes.size() < 33) return s;
  for (int i = 0; i < 8; ++i) {
    if (static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]) != kSignature[i]) return s;
  }
  if (bytes.compare(12, 4, "IHDR") != 0) return s;
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  s.width = be32(16);
  s.height = be32(20);
  s.valid = true;
  return s;
}

}  // namespace embedkit_plot_test
