#include "vocabulary.hpp"

#include <algorithm>
#include <set>

namespace embedkit::examples {

Vocabulary Vocabulary::build(const std::vector<LabelledSentence>& train, std::int64_t min_count) {
  std::unordered_map<std::string, std::int64_t> counts;
  std::vector<std::string> order;
  std::set<std::string> labels;
  for (const LabelledSentence& s : train) {
    labels.insert(s.label);
    for (const std::string& w : s.tokens) {
      if (counts[w]++ == 0) order.push_back(w);
    }
  }
  Vocabulary v;
  v.words_.push_back("<unk>");
  for (const std::string& w : order) {
    if (counts[w] >= min_count) {
      v.word_ids_[w] = static_cast<std::int64_t>(v.words_.size());
      v.words_.push_back(w);
    }
  }
  v.labels_.assign(labels.begin(), labels.end());
  for (std::size_t i = 0; i < v.labels_.size(); ++i) {
    v.label_ids_[v.labels_[i]] = static_cast<std::int64_t>(i);
  }
  return v;
}

std::int64_t Vocabulary::word_id(const std::string& word) const {
  const auto it = word_ids_.find(word);
  return it == word_ids_.end() ? kUnknown : it->second;
}

std::int64_t Vocabulary::label_id(const std::string& label) const {
  const auto it = label_ids_.find(label);
  return it == label_ids_.end() ? -1 : it->second;
}

}  // namespace embedkit::examples
