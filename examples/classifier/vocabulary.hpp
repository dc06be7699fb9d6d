// Words and labels to ids. Id 0 is "<unk>": words seen fewer than min_count times in training,
// and words never seen, map to it explicitly (never silently to some other word's row).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "labelled_text.hpp"

namespace embedkit::examples {

class Vocabulary {
 public:
  static constexpr std::int64_t kUnknown = 0;

  // Words in order of first appearance (deterministic); labels sorted by name.
  static Vocabulary build(const std::vector<LabelledSentence>& train, std::int64_t min_count = 1);

  std::int64_t num_words() const { return static_cast<std::int64_t>(words_.size()); }
  std::int64_t num_labels() const { return static_cast<std::int64_t>(labels_.size()); }
  std::int64_t word_id(const std::string& word) const;  // kUnknown when absent
  // -1 for a label not seen in training.
  std::int64_t label_id(const std::string& label) const;
  const std::string& word(std::int64_t id) const { return words_.at(static_cast<std::size_t>(id)); }
  const std::string& label(std::int64_t id) const {
    return labels_.at(static_cast<std::size_t>(id));
  }

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, std::int64_t> word_ids_;
  std::vector<std::string> labels_;
  std::unordered_map<std::string, std::int64_t> label_ids_;
};

}  // namespace embedkit::examples
