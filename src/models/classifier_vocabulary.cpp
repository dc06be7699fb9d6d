#include "embedkit/models/classifier_vocabulary.hpp"

#include <algorithm>
#include <numeric>

#include "embedkit/core/error.hpp"

namespace embedkit::models {

namespace {

// Counts in order of first appearance, then a stable sort by count (descending).
struct Counter {
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::string> names;
  std::vector<std::int64_t> counts;

  void add(const std::string& name) {
    const auto [it, fresh] = index.try_emplace(name, names.size());
    if (fresh) {
      names.push_back(name);
      counts.push_back(0);
    }
    ++counts[it->second];
  }

  void finish(std::int64_t min_count, std::vector<std::string>& out_names,
              std::vector<std::int64_t>& out_counts) const {
    std::vector<std::size_t> order(names.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return counts[a] > counts[b]; });
    for (const std::size_t i : order) {
      if (counts[i] < min_count) continue;
      out_names.push_back(names[i]);
      out_counts.push_back(counts[i]);
    }
  }
};

bool has_space(std::string_view s) {
  return s.find_first_of(" \t\r\n\v\f") != std::string_view::npos;
}

void index_names(const std::vector<std::string>& names, const std::vector<std::int64_t>& counts,
                 const char* what, auto& index) {
  if (names.size() != counts.size()) {
    throw ValueError(std::string("classifier vocabulary: ") + what +
                     " and their counts differ in size");
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty() || has_space(names[i])) {
      throw ValueError(std::string("classifier vocabulary: ") + what + " " + std::to_string(i) +
                       " is empty or holds whitespace");
    }
    if (counts[i] < 1) {
      throw ValueError(std::string("classifier vocabulary: ") + what + " '" + names[i] +
                       "' has count " + std::to_string(counts[i]) + " (must be >= 1)");
    }
    if (!index.try_emplace(names[i], static_cast<std::int64_t>(i)).second) {
      throw ValueError(std::string("classifier vocabulary: ") + what + " '" + names[i] +
                       "' is repeated");
    }
  }
}

}  // namespace

ClassifierVocabulary ClassifierVocabulary::build(const std::vector<LabelledExample>& train,
                                                 std::int64_t min_count, bool end_of_line) {
  if (min_count < 1) throw ValueError("classifier vocabulary: min_count must be >= 1");
  if (train.empty()) throw ValueError("classifier vocabulary: no training example");
  Counter words;
  Counter labels;
  const std::string eol(kEndOfLine);
  for (const LabelledExample& e : train) {
    for (const std::string& w : e.words) words.add(w);
    if (end_of_line) words.add(eol);
    for (const std::string& l : e.labels) labels.add(l);
  }
  std::vector<std::string> word_names;
  std::vector<std::int64_t> word_counts;
  std::vector<std::string> label_names;
  std::vector<std::int64_t> label_counts;
  words.finish(min_count, word_names, word_counts);
  if (word_names.empty()) {
    throw ValueError("classifier vocabulary: no word is seen min_count = " +
                     std::to_string(min_count) + " times");
  }
  labels.finish(1, label_names, label_counts);
  return from_parts(std::move(word_names), std::move(word_counts), std::move(label_names),
                    std::move(label_counts));
}

ClassifierVocabulary ClassifierVocabulary::from_parts(std::vector<std::string> words,
                                                      std::vector<std::int64_t> word_counts,
                                                      std::vector<std::string> labels,
                                                      std::vector<std::int64_t> label_counts) {
  ClassifierVocabulary v;
  index_names(words, word_counts, "word", v.word_index_);
  index_names(labels, label_counts, "label", v.label_index_);
  if (labels.empty()) throw ValueError("classifier vocabulary: no label");
  v.words_ = std::move(words);
  v.word_counts_ = std::move(word_counts);
  v.labels_ = std::move(labels);
  v.label_counts_ = std::move(label_counts);
  return v;
}

std::int64_t ClassifierVocabulary::find_word(std::string_view word) const {
  const auto it = word_index_.find(word);
  return it == word_index_.end() ? -1 : it->second;
}

std::int64_t ClassifierVocabulary::find_label(std::string_view label) const {
  const auto it = label_index_.find(label);
  return it == label_index_.end() ? -1 : it->second;
}

}  // namespace embedkit::models
