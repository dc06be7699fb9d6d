// The vocabulary of a word2vec model: the words kept for training, with their corpus counts.
//
// Order: by count, descending; equal counts keep the order of their first appearance in the
// corpus (so the result does not depend on a hash function, and the most frequent words get the
// shortest Huffman codes and the lowest ids, as in word2vec.c). min_count drops words seen fewer
// times; max_vocab (0 = no limit) then keeps only the first max_vocab words of that order.
// Unlike word2vec.c, which prunes rare words while counting when its hash table fills up,
// counting is exact: memory grows with the number of distinct words in the corpus.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace embedkit::models {

class Vocabulary {
 public:
  // Accumulates counts word by word (in corpus order); finish() applies the cut-offs.
  class Builder {
   public:
    void add(std::string_view word);
    Vocabulary finish(std::int64_t min_count, std::int64_t max_vocab) const;
    std::int64_t tokens() const { return tokens_; }
    std::size_t distinct() const { return words_.size(); }

   private:
    struct Hash {
      using is_transparent = void;
      std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> index_;
    std::vector<std::string> words_;  // in order of first appearance
    std::vector<std::int64_t> counts_;
    std::int64_t tokens_ = 0;
  };

  Vocabulary() = default;

  std::size_t size() const { return words_.size(); }
  bool empty() const { return words_.empty(); }
  const std::string& word(std::size_t id) const { return words_[id]; }
  std::int64_t count(std::size_t id) const { return counts_[id]; }
  const std::vector<std::string>& words() const { return words_; }
  const std::vector<std::int64_t>& counts() const { return counts_; }
  // Sum of the kept words' counts: the number of corpus tokens one epoch trains on.
  std::int64_t total_count() const { return total_; }
  // The id of `word`, or -1 when it is not in the vocabulary.
  std::int32_t find(std::string_view word) const;

 private:
  friend class Builder;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> words_;
  std::vector<std::int64_t> counts_;
  std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>> index_;
  std::int64_t total_ = 0;
};

// What the counting pass over a corpus saw.
struct CorpusStats {
  std::int64_t tokens = 0;    // every token, kept or not
  std::int64_t distinct = 0;  // distinct tokens
  std::uint64_t bytes = 0;    // uncompressed size
};

// Reads the corpus once (validating it) and builds its vocabulary. Throws IoError on unreadable
// or invalid text, ValueError when the corpus has no token or no word reaches min_count.
Vocabulary count_vocabulary(const std::filesystem::path& corpus, std::int64_t min_count,
                            std::int64_t max_vocab, CorpusStats* stats = nullptr);

}  // namespace embedkit::models
