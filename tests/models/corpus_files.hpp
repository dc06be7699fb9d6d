// Small corpora the model tests write for themselves.
#pragma once

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace embedkit_models_test {

inline void write_gzip(const std::filesystem::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path.string());
  const int n = gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  if (n != static_cast<int>(text.size())) throw std::runtime_error("gzwrite failed");
}

// The planted structure: two groups of words that only ever share a line with their own group,
// so a working word2vec must put same-group words closer together than cross-group words.
inline const std::vector<std::string> kGroupA = {"apple", "banana", "cherry", "grape",
                                                 "lemon", "mango",  "peach",  "plum"};
inline const std::vector<std::string> kGroupB = {"hammer", "wrench", "drill", "saw",
                                                 "chisel", "pliers", "file",  "level"};

inline std::string two_group_corpus(int lines, int words_per_line, unsigned seed) {
  std::mt19937 rng(seed);
  std::string text;
  for (int i = 0; i < lines; ++i) {
    const auto& group = (i % 2 == 0) ? kGroupA : kGroupB;
    for (int w = 0; w < words_per_line; ++w) {
      if (w) text += ' ';
      text += group[rng() % group.size()];
    }
    text += '\n';
  }
  return text;
}

}  // namespace embedkit_models_test
