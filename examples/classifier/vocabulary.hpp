// Words and labels to ids. Id 0 is "<unk>": words seen fewer than min_count times in training,
// and words never seen, map to it explicitly (never silently to some other word's row).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/key_index.hpp"
#include "labelled_text.hpp"

namespace embedkit::examples {

class Vocabulary {
 public:
  static constexpr std::int64_t kUnknown = 0;

  // Words in order of first appearance (deterministic); labels sorted by name.
  static Vocabulary build(const std::vector<LabelledSentence>& train, std::int64_t min_count = 1);

  std::int64_t num_words() const { return words_.size(); }
  std::int64_t num_labels() const { return labels_.size(); }
  // kUnknown when absent: every word has a row.
  std::int64_t word_id(std::string_view word) const { return words_.find(word).value_or(kUnknown); }
  // std::nullopt for a label not seen in training (a label has no fallback class).
  std::optional<std::int64_t> label_id(std::string_view label) const { return labels_.find(label); }
  const std::string& word(std::int64_t id) const {
    return words_.keys().at(static_cast<std::size_t>(id));
  }
  const std::string& label(std::int64_t id) const {
    return labels_.keys().at(static_cast<std::size_t>(id));
  }

 private:
  KeyIndex words_;
  KeyIndex labels_;
};

}  // namespace embedkit::examples
