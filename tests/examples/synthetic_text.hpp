// Labelled sentences the tests make themselves: each class has a few words of its own, mixed
// with words shared by all classes, so a bag-of-words model can learn them (but not at once).
#pragma once

#include <string>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "labelled_text.hpp"

namespace embedkit::examples::testing {

inline std::vector<LabelledSentence> synthetic_sentences(std::size_t count, std::uint64_t seed) {
  Generator gen(seed);
  const std::vector<std::string> labels = {"sports", "science", "music"};
  std::vector<LabelledSentence> out;
  for (std::size_t i = 0; i < count; ++i) {
    LabelledSentence s;
    const std::size_t c = gen.next_u64() % labels.size();
    s.label = labels[c];
    const std::size_t length = 3 + gen.next_u64() % 8;
    for (std::size_t k = 0; k < length; ++k) {
      // One word in three is the class's own (8 per class); the rest are shared (30 words).
      if (gen.next_u64() % 3 == 0) {
        s.tokens.push_back(labels[c] + "_" + std::to_string(gen.next_u64() % 8));
      } else {
        s.tokens.push_back("common_" + std::to_string(gen.next_u64() % 30));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace embedkit::examples::testing
