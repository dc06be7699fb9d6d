#include "embedkit/models/vocabulary.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "embedkit/core/error.hpp"
#include "embedkit/models/corpus_reader.hpp"

namespace embedkit::models {

void Vocabulary::Builder::add(std::string_view word) {
  ++tokens_;
  auto it = index_.find(word);
  if (it != index_.end()) {
    ++counts_[it->second];
    return;
  }
  index_.emplace(std::string(word), words_.size());
  words_.emplace_back(word);
  counts_.push_back(1);
}

Vocabulary Vocabulary::Builder::finish(std::int64_t min_count, std::int64_t max_vocab) const {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < words_.size(); ++i) {
    if (counts_[i] >= min_count) order.push_back(i);
  }
  // Stable: equal counts stay in order of first appearance.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return counts_[a] > counts_[b]; });
  if (max_vocab > 0 && order.size() > static_cast<std::size_t>(max_vocab)) {
    order.resize(static_cast<std::size_t>(max_vocab));
  }
  if (order.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw ValueError("vocabulary: more than 2^31 - 1 words; set max_vocab");
  }
  Vocabulary v;
  v.words_.reserve(order.size());
  v.counts_.reserve(order.size());
  for (std::size_t i : order) {
    v.index_.emplace(words_[i], static_cast<std::int32_t>(v.words_.size()));
    v.words_.push_back(words_[i]);
    v.counts_.push_back(counts_[i]);
    v.total_ += counts_[i];
  }
  return v;
}

std::int32_t Vocabulary::find(std::string_view word) const {
  auto it = index_.find(word);
  return it == index_.end() ? -1 : it->second;
}

Vocabulary count_vocabulary(const std::filesystem::path& corpus, std::int64_t min_count,
                            std::int64_t max_vocab, CorpusStats* stats) {
  CorpusReader reader(corpus, /*validate=*/true);
  Vocabulary::Builder builder;
  for (;;) {
    const auto event = reader.next();
    if (event == CorpusReader::Event::EndOfFile) break;
    if (event == CorpusReader::Event::Word) builder.add(reader.word());
  }
  if (stats != nullptr) {
    stats->tokens = builder.tokens();
    stats->distinct = static_cast<std::int64_t>(builder.distinct());
    stats->bytes = reader.position();
  }
  if (builder.tokens() == 0) {
    throw ValueError(corpus.string() + ": the corpus holds no words");
  }
  Vocabulary v = builder.finish(min_count, max_vocab);
  if (v.empty()) {
    const Vocabulary all = builder.finish(1, 1);
    throw ValueError(corpus.string() + ": no word occurs min_count = " + std::to_string(min_count) +
                     " times (the most frequent, \"" + all.word(0) + "\", occurs " +
                     std::to_string(all.count(0)) + " times); lower --min-count");
  }
  return v;
}

}  // namespace embedkit::models
