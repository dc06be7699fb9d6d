// Dictionary: the words and labels a model was trained on, each with its count in the training
// data, as fastText's Dictionary holds them. word2vec's dictionary has words only; the text
// classifier's has both. Ids are per entry type: words 0..words().size()-1 index the input table,
// labels 0..labels().size()-1 the output classes.
//
// One order for every model: entries seen at least min_count times (labels: every one), by
// count, descending; equal counts keep the order of their first appearance in the data (so the
// result does not depend on a hash function, and frequent entries get the lowest ids and the
// shortest Huffman codes, as in word2vec.c and fastText); max_words (0 = no limit) then keeps
// only the first max_words words of that order. Unlike word2vec.c, which prunes rare words
// while counting when its hash table fills up, counting is exact: memory grows with the number
// of distinct entries in the data.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/key_index.hpp"
#include "embedkit/models/labelled_text.hpp"

namespace embedkit::models {

enum class EntryType { Word, Label };

// What the counting pass over a word2vec corpus saw.
struct CorpusStats {
  std::int64_t tokens = 0;    // every token, kept or not
  std::int64_t distinct = 0;  // distinct tokens
  std::uint64_t bytes = 0;    // uncompressed size
};

class Dictionary {
 public:
  // fastText's end-of-line word: with the classifier's end_of_line, every line also holds it,
  // and it acts as a learned bias shared by all lines.
  static constexpr std::string_view kEndOfLine = "</s>";

  // The entries of one type, id i at position i.
  class Entries {
   public:
    EntryType type() const { return type_; }
    std::int64_t size() const { return index_.size(); }
    bool empty() const { return index_.empty(); }
    // The text and count of `id`; 0 <= id < size() (not checked: ids come from this dictionary).
    const std::string& text(std::int64_t id) const { return index_.key(id); }
    std::int64_t count(std::int64_t id) const { return counts_[static_cast<std::size_t>(id)]; }
    const std::vector<std::string>& texts() const { return index_.keys(); }
    const std::vector<std::int64_t>& counts() const { return counts_; }
    // Sum of the counts (for words: the corpus tokens one word2vec epoch trains on).
    std::int64_t total_count() const { return total_; }
    // The id of `text`, or std::nullopt when the dictionary does not hold it.
    std::optional<std::int64_t> find(std::string_view text) const { return index_.find(text); }
    // The id of `text`; KeyError "word 'x' is not in the dictionary" (or "label ...") when absent.
    std::int64_t at(std::string_view text) const;

   private:
    friend class Dictionary;
    explicit Entries(EntryType type) : type_(type) {}
    void append(std::string_view text, std::int64_t count);

    EntryType type_;
    KeyIndex index_;
    std::vector<std::int64_t> counts_;
    std::int64_t total_ = 0;
  };

  // Counts entries in the order they come (the data's order); finish() applies the order and the
  // cut-offs above.
  class Builder {
   public:
    void add(EntryType type, std::string_view text);
    // Entries added, every occurrence (for words: the corpus tokens).
    std::int64_t occurrences(EntryType type) const { return tally(type).occurrences; }
    std::int64_t distinct(EntryType type) const { return tally(type).seen.size(); }
    // Words seen >= min_count times, the first max_words of them (0: all); every label.
    Dictionary finish(std::int64_t min_count, std::int64_t max_words) const;

   private:
    friend class Dictionary;
    struct Tally {
      KeyIndex seen;  // in order of first appearance
      std::vector<std::int64_t> counts;
      std::int64_t occurrences = 0;
    };
    const Tally& tally(EntryType type) const { return tallies_[static_cast<std::size_t>(type)]; }
    std::array<Tally, 2> tallies_;
  };

  Dictionary() = default;

  // word2vec: reads the corpus once (validating it) and counts its words. IoError on unreadable
  // or invalid text; ValueError when the corpus has no token or no word reaches min_count.
  // on_tokens (optional) is called every kCountingTick tokens, so that a caller can report
  // progress or cancel a long count: an exception from it stops counting and propagates.
  static constexpr std::int64_t kCountingTick = std::int64_t{1} << 20;
  static Dictionary from_corpus(const std::filesystem::path& corpus, std::int64_t min_count,
                                std::int64_t max_words, CorpusStats* stats = nullptr,
                                const std::function<void()>& on_tokens = {});
  // The text classifier: the words and labels of its training lines, and "</s>" once per line
  // with end_of_line. Words seen fewer than min_count times are dropped: at prediction time they,
  // like words never seen, contribute no row of their own (they still take part in word
  // n-grams, see ngram_hashing.hpp). ValueError when min_count < 1, the data has no example, no
  // word reaches min_count, or an entry is not valid (as for from_parts).
  static Dictionary from_examples(const std::vector<LabelledExample>& train, std::int64_t min_count,
                                  bool end_of_line);
  // fastText's -pretrainedVectors: every word of `words` joins the vocabulary, a known word's
  // count + 1 and a new one with count 1 (fastText's Dictionary::add), and the words are ordered
  // again by count, most frequent first (ties keep their order: known words before new ones).
  // Labels are unchanged. ValueError for a word that is empty, holds whitespace or starts with
  // `label_prefix` (fastText would make it a new label, a class no training line has).
  Dictionary with_words(const std::vector<std::string>& words, std::string_view label_prefix) const;
  // From stored parts (a saved classifier). ValueError for mismatched sizes, an empty or
  // repeated word or label, a word or label holding whitespace, a count < 1, or no label.
  static Dictionary from_parts(std::vector<std::string> words,
                               std::vector<std::int64_t> word_counts,
                               std::vector<std::string> labels,
                               std::vector<std::int64_t> label_counts);

  const Entries& words() const { return words_; }
  const Entries& labels() const { return labels_; }
  const Entries& entries(EntryType type) const {
    return type == EntryType::Word ? words_ : labels_;
  }

 private:
  Entries words_{EntryType::Word};
  Entries labels_{EntryType::Label};
};

}  // namespace embedkit::models
