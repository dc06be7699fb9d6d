#include "embedkit/models/dictionary.hpp"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "embedkit/core/error.hpp"
#include "embedkit/models/corpus_reader.hpp"

namespace embedkit::models {

namespace {

const char* entry_name(EntryType type) {
  return type == EntryType::Word ? "word" : "label";
}

bool has_space(std::string_view s) {
  return s.find_first_of(" \t\r\n\v\f") != std::string_view::npos;
}

}  // namespace

std::int64_t Dictionary::Entries::at(std::string_view text) const {
  if (const auto id = find(text)) return *id;
  throw KeyError(entry_name(type_), text, "dictionary");
}

void Dictionary::Entries::append(std::string_view text, std::int64_t count) {
  index_.add(text);
  counts_.push_back(count);
  total_ += count;
}

void Dictionary::Builder::add(EntryType type, std::string_view text) {
  Tally& t = tallies_[static_cast<std::size_t>(type)];
  ++t.occurrences;
  const KeyIndex::Added added = t.seen.add(text);
  if (added.inserted) t.counts.push_back(0);
  ++t.counts[static_cast<std::size_t>(added.row)];
}

Dictionary Dictionary::Builder::finish(std::int64_t min_count, std::int64_t max_words) const {
  Dictionary d;
  for (Entries* entries : {&d.words_, &d.labels_}) {
    const Tally& t = tally(entries->type());
    const std::int64_t threshold = entries->type() == EntryType::Word ? min_count : 1;
    std::vector<std::int64_t> order;
    for (std::int64_t i = 0; i < t.seen.size(); ++i) {
      if (t.counts[static_cast<std::size_t>(i)] >= threshold) order.push_back(i);
    }
    // Stable: equal counts stay in order of first appearance.
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return t.counts[static_cast<std::size_t>(a)] > t.counts[static_cast<std::size_t>(b)];
    });
    if (entries->type() == EntryType::Word && max_words > 0 &&
        order.size() > static_cast<std::size_t>(max_words)) {
      order.resize(static_cast<std::size_t>(max_words));
    }
    entries->index_.reserve(order.size());
    entries->counts_.reserve(order.size());
    for (const std::int64_t i : order) {
      entries->append(t.seen.key(i), t.counts[static_cast<std::size_t>(i)]);
    }
  }
  return d;
}

Dictionary Dictionary::from_corpus(const std::filesystem::path& corpus, std::int64_t min_count,
                                   std::int64_t max_words, CorpusStats* stats,
                                   const std::function<void()>& on_tokens) {
  CorpusReader reader(corpus, /*validate=*/true);
  Builder builder;
  std::int64_t until_tick = kCountingTick;
  for (;;) {
    const auto event = reader.next();
    if (event == CorpusReader::Event::EndOfFile) break;
    if (event != CorpusReader::Event::Word) continue;
    builder.add(EntryType::Word, reader.word());
    if (--until_tick == 0) {
      until_tick = kCountingTick;
      if (on_tokens) on_tokens();
    }
  }
  if (stats != nullptr) {
    stats->tokens = builder.occurrences(EntryType::Word);
    stats->distinct = builder.distinct(EntryType::Word);
    stats->bytes = reader.position();
  }
  if (builder.occurrences(EntryType::Word) == 0) {
    throw ValueError(corpus.string() + ": the corpus holds no words");
  }
  Dictionary d = builder.finish(min_count, max_words);
  if (d.words().empty()) {
    const Dictionary all = builder.finish(1, 1);
    throw ValueError(corpus.string() + ": no word occurs min_count = " + std::to_string(min_count) +
                     " times (the most frequent, \"" + all.words().text(0) + "\", occurs " +
                     std::to_string(all.words().count(0)) + " times); lower --min-count");
  }
  return d;
}

Dictionary Dictionary::from_examples(const std::vector<LabelledExample>& train,
                                     std::int64_t min_count, bool end_of_line) {
  if (min_count < 1) throw ValueError("classifier vocabulary: min_count must be >= 1");
  if (train.empty()) throw ValueError("classifier vocabulary: no training example");
  Builder builder;
  for (const LabelledExample& e : train) {
    for (const std::string& w : e.words) builder.add(EntryType::Word, w);
    if (end_of_line) builder.add(EntryType::Word, kEndOfLine);
    for (const std::string& l : e.labels) builder.add(EntryType::Label, l);
  }
  const Dictionary counted = builder.finish(min_count, 0);
  if (counted.words().empty()) {
    throw ValueError("classifier vocabulary: no word is seen min_count = " +
                     std::to_string(min_count) + " times");
  }
  // Through from_parts, so that a built dictionary is held to the rules of a stored one (a word
  // given in code may be empty or hold whitespace: it could not be saved and read back).
  return from_parts(counted.words().texts(), counted.words().counts(), counted.labels().texts(),
                    counted.labels().counts());
}

Dictionary Dictionary::with_words(const std::vector<std::string>& words,
                                  std::string_view label_prefix) const {
  Builder builder;
  Builder::Tally& t = builder.tallies_[static_cast<std::size_t>(EntryType::Word)];
  for (std::int64_t i = 0; i < words_.size(); ++i) {
    t.seen.add(words_.text(i));
    t.counts.push_back(words_.count(i));
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.empty() || has_space(w) || w.starts_with(label_prefix)) {
      throw ValueError("pretrained vectors: word " + std::to_string(i + 1) + " '" + w +
                       "' is empty, holds whitespace or starts with the label prefix '" +
                       std::string(label_prefix) + "'");
    }
    const KeyIndex::Added added = t.seen.add(w);
    if (added.inserted) t.counts.push_back(0);
    ++t.counts[static_cast<std::size_t>(added.row)];
  }
  const Dictionary counted = builder.finish(1, 0);
  return from_parts(counted.words().texts(), counted.words().counts(), labels_.texts(),
                    labels_.counts());
}

Dictionary Dictionary::from_parts(std::vector<std::string> words,
                                  std::vector<std::int64_t> word_counts,
                                  std::vector<std::string> labels,
                                  std::vector<std::int64_t> label_counts) {
  Dictionary d;
  for (auto [entries, texts, counts] : {std::tuple{&d.words_, &words, &word_counts},
                                        std::tuple{&d.labels_, &labels, &label_counts}}) {
    const std::string what = entry_name(entries->type());
    if (texts->size() != counts->size()) {
      throw ValueError("classifier vocabulary: " + what + " and their counts differ in size");
    }
    entries->index_.reserve(texts->size());
    entries->counts_.reserve(texts->size());
    for (std::size_t i = 0; i < texts->size(); ++i) {
      const std::string& text = (*texts)[i];
      const std::int64_t count = (*counts)[i];
      if (text.empty() || has_space(text)) {
        throw ValueError("classifier vocabulary: " + what + " " + std::to_string(i) +
                         " is empty or holds whitespace");
      }
      if (count < 1) {
        throw ValueError("classifier vocabulary: " + what + " '" + text + "' has count " +
                         std::to_string(count) + " (must be >= 1)");
      }
      if (entries->index_.contains(text)) {
        throw ValueError("classifier vocabulary: " + what + " '" + text + "' is repeated");
      }
      if (count > std::numeric_limits<std::int64_t>::max() - entries->total_) {
        throw ValueError("classifier vocabulary: the " + what + " counts' sum overflows int64");
      }
      entries->append(text, count);
    }
  }
  if (d.labels_.empty()) throw ValueError("classifier vocabulary: no label");
  return d;
}

}  // namespace embedkit::models
