// Word vectors whose every word and value says which save ("version") it comes from, so that a
// loaded .npy + .vocab pair can be told to be one complete version or a mix of two.
//
// Version v: word i is "v<v>w<i>" followed by `padding` 'x' characters (long words make the
// .vocab larger than the .npy), and row i holds v * 1000 + i + j / 8 in column j.
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/io/vector_formats.hpp"

namespace embedkit_io_test {

inline embedkit::io::WordVectors pair_version(std::int64_t version, std::int64_t rows,
                                              std::int64_t dim, std::size_t padding = 0) {
  embedkit::io::WordVectors v;
  v.matrix = embedkit::Tensor::empty({rows, dim});
  float* m = v.matrix.data<float>();
  for (std::int64_t i = 0; i < rows; ++i) {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "v" + std::string.
    std::string word("v");
    word += std::to_string(version);
    word += 'w';
    word += std::to_string(i);
    word.append(padding, 'x');
    v.words.push_back(std::move(word));
    for (std::int64_t j = 0; j < dim; ++j) {
      m[i * dim + j] = static_cast<float>(version * 1000 + i) + static_cast<float>(j) / 8.0f;
    }
  }
  return v;
}

// The version every word and every value of `v` belongs to; -1 when they disagree (a mix) or
// when `v` is not shaped like a pair_version.
inline std::int64_t version_of(const embedkit::io::WordVectors& v) {
  if (v.words.empty() || v.matrix.dim() != 2) return -1;
  const std::int64_t rows = v.matrix.size(0);
  const std::int64_t dim = v.matrix.size(1);
  const std::string& first = v.words[0];
  const std::size_t w = first.find('w');
  if (first.size() < 2 || first[0] != 'v' || w == std::string::npos) return -1;
  const std::int64_t version = std::stoll(first.substr(1, w - 1));
  const std::size_t x = first.find('x');
  const std::size_t padding = x == std::string::npos ? 0 : first.size() - x;
  const embedkit::io::WordVectors expected = pair_version(version, rows, dim, padding);
  if (v.words != expected.words) return -1;
  const float* a = v.matrix.data<float>();
  const float* b = expected.matrix.data<float>();
  for (std::int64_t i = 0; i < rows * dim; ++i) {
    if (a[i] != b[i]) return -1;
  }
  return version;
}

}  // namespace embedkit_io_test
