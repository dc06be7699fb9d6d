// The words and labels of a text classifier, with their training counts.
//
// Order: by count, descending; equal counts keep the order of first appearance in the training
// data (deterministic, no hash-order dependence; frequent labels get short Huffman codes).
// Words seen fewer than min_count times are dropped: at prediction time they, like words never
// seen, contribute no row of their own (they still take part in word n-grams, see
// ngram_hashing.hpp). With end_of_line, every line also holds the word "</s>" (fastText's
// end-of-line token), which acts as a learned bias shared by all lines. Labels are all kept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "embedkit/models/labelled_text.hpp"

namespace embedkit::models {

class ClassifierVocabulary {
 public:
  static constexpr std::string_view kEndOfLine = "</s>";

  ClassifierVocabulary() = default;
  // ValueError when min_count < 1, the data has no example, or no word reaches min_count.
  static ClassifierVocabulary build(const std::vector<LabelledExample>& train,
                                    std::int64_t min_count, bool end_of_line);
  // From stored parts (a saved model). ValueError for mismatched sizes, an empty or repeated
  // word or label, a word or label holding whitespace, a count < 1, or no label.
  static ClassifierVocabulary from_parts(std::vector<std::string> words,
                                         std::vector<std::int64_t> word_counts,
                                         std::vector<std::string> labels,
                                         std::vector<std::int64_t> label_counts);

  std::size_t num_words() const { return words_.size(); }
  std::size_t num_labels() const { return labels_.size(); }
  const std::string& word(std::size_t id) const { return words_[id]; }
  const std::string& label(std::size_t id) const { return labels_[id]; }
  const std::vector<std::string>& words() const { return words_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<std::int64_t>& word_counts() const { return word_counts_; }
  const std::vector<std::int64_t>& label_counts() const { return label_counts_; }
  // -1 when absent.
  std::int64_t find_word(std::string_view word) const;
  std::int64_t find_label(std::string_view label) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, std::int64_t, Hash, std::equal_to<>>;

  std::vector<std::string> words_;
  std::vector<std::int64_t> word_counts_;
  std::vector<std::string> labels_;
  std::vector<std::int64_t> label_counts_;
  Index word_index_;
  Index label_index_;
};

}  // namespace embedkit::models
