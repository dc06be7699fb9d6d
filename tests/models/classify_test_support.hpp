// Files and data the classifier tests make for themselves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/models/labelled_text.hpp"

namespace embedkit_classify_test {

// prefix + number (one function, so GCC's -Wrestrict false positive on "a" + std::to_string()
// stays out of the tests).
inline std::string tok(const char* prefix, std::uint64_t n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

struct Lcg {
  std::uint64_t s;
  std::uint64_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  }
};

// `labels` classes; each line holds 2 of its class's 5 keywords among 4 words shared by all
// classes, so the classes are linearly separable by the keywords alone.
inline std::vector<embedkit::models::LabelledExample> keyword_lines(std::size_t count,
                                                                    std::size_t labels,
                                                                    std::uint64_t seed) {
  Lcg rng{seed};
  std::vector<embedkit::models::LabelledExample> out;
  for (std::size_t i = 0; i < count; ++i) {
    embedkit::models::LabelledExample e;
    const std::size_t c = rng.next() % labels;
    e.labels.push_back(tok("c", c));
    for (int w = 0; w < 4; ++w) e.words.push_back(tok("common", rng.next() % 30));
    for (int w = 0; w < 2; ++w) {
      const auto pos = static_cast<std::ptrdiff_t>(rng.next() % (e.words.size() + 1));
      e.words.insert(e.words.begin() + pos, tok("key", c) + tok("_", rng.next() % 5));
    }
    e.line = static_cast<std::int64_t>(i + 1);
    out.push_back(std::move(e));
  }
  return out;
}

// Two classes that share every word: "pos" lines hold the pair "x y" in that order, "neg" lines
// "y x"; only word order (bigrams) tells them apart.
inline std::vector<embedkit::models::LabelledExample> order_lines(std::size_t count,
                                                                  std::uint64_t seed) {
  Lcg rng{seed};
  std::vector<embedkit::models::LabelledExample> out;
  for (std::size_t i = 0; i < count; ++i) {
    embedkit::models::LabelledExample e;
    const bool pos = rng.next() % 2 == 0;
    e.labels.push_back(pos ? "pos" : "neg");
    const std::string a = tok("p", rng.next() % 3);
    const std::string b = tok("q", rng.next() % 3);
    e.words = {tok("w", rng.next() % 5), pos ? a : b, pos ? b : a, tok("w", rng.next() % 5)};
    e.line = static_cast<std::int64_t>(i + 1);
    out.push_back(std::move(e));
  }
  return out;
}

inline std::string to_fasttext(const std::vector<embedkit::models::LabelledExample>& lines) {
  std::string text;
  for (const auto& e : lines) {
    for (const auto& l : e.labels) text += "__label__" + l + " ";
    for (std::size_t i = 0; i < e.words.size(); ++i) text += (i ? " " : "") + e.words[i];
    text += "\n";
  }
  return text;
}

}  // namespace embedkit_classify_test
