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
  v.words_.add("<unk>");
  for (const std::string& w : order) {
    if (counts[w] >= min_count) v.words_.add(w);
  }
  for (const std::string& l : labels) v.labels_.add(l);
  return v;
}

}  // namespace embedkit::examples
