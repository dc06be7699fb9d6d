// The text classifier: its options, metrics, and the input ids of a line. Training, prediction
// and the model file have their own files (text_classifier_training.cpp,
// text_classifier_prediction.cpp, text_classifier_file.cpp).
#include "embedkit/models/text_classifier.hpp"

#include <string>
#include <utility>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "models/text_classifier_layers.hpp"

namespace embedkit::models {

namespace {

double ratio(std::int64_t a, std::int64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

}  // namespace

ClassifierLoss parse_classifier_loss(const std::string& name) {
  if (name == "softmax") return ClassifierLoss::Softmax;
  if (name == "hs") return ClassifierLoss::HierarchicalSoftmax;
  if (name == "ns") return ClassifierLoss::NegativeSampling;
  throw ValueError("unknown loss '" + name + "' (softmax, hs or ns)");
}

std::string classifier_loss_name(ClassifierLoss loss) {
  switch (loss) {
    case ClassifierLoss::Softmax:
      return "softmax";
    case ClassifierLoss::HierarchicalSoftmax:
      return "hs";
    case ClassifierLoss::NegativeSampling:
      return "ns";
  }
  return "softmax";
}

void ClassifierOptions::validate() const {
  auto fail = [](const std::string& what) { throw ValueError("text classifier: " + what); };
  if (dim < 1 || dim > 100000) fail("dim must be in [1, 100000], got " + std::to_string(dim));
  if (!(lr > 0) || !std::isfinite(lr)) fail("lr must be > 0");
  if (epochs < 1) fail("epochs must be >= 1, got " + std::to_string(epochs));
  if (word_ngrams < 1 || word_ngrams > 100) {
    fail("word_ngrams must be in [1, 100], got " + std::to_string(word_ngrams));
  }
  if (buckets < 0) fail("buckets must be >= 0, got " + std::to_string(buckets));
  if (word_ngrams > 1 && buckets < 1) fail("word_ngrams > 1 needs buckets >= 1");
  // fastText's rules for character n-grams: maxn 0 turns them off (minn then means nothing).
  if (minn < 0) fail("minn must be >= 0, got " + std::to_string(minn));
  if (maxn < 0) fail("maxn must be >= 0 (0: no subwords), got " + std::to_string(maxn));
  if (maxn > 0) {
    if (minn < 1) fail("minn must be >= 1 with subwords (maxn > 0), got " + std::to_string(minn));
    if (maxn < minn) {
      fail("maxn must be >= minn, got minn " + std::to_string(minn) + " and maxn " +
           std::to_string(maxn));
    }
    if (buckets < 1) fail("maxn > 0 needs buckets >= 1: the character n-grams need rows");
  }
  if (min_count < 1) fail("min_count must be >= 1, got " + std::to_string(min_count));
  if (loss == ClassifierLoss::NegativeSampling && (negative < 1 || negative > 10000)) {
    fail("negative must be in [1, 10000] with ns, got " + std::to_string(negative));
  }
  if (threads < 1 || threads > 1024) {
    fail("threads must be in [1, 1024], got " + std::to_string(threads));
  }
  if (label_prefix.empty()) fail("label_prefix must not be empty");
  if (!(progress_interval > 0) || !std::isfinite(progress_interval)) {
    fail("progress_interval must be > 0");
  }
}

double LabelMetrics::precision() const {
  return ratio(correct, predicted);
}
double LabelMetrics::recall() const {
  return ratio(correct, gold);
}
double LabelMetrics::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

std::int64_t ClassifierEvaluation::unseen_label_count() const {
  std::int64_t n = 0;
  for (const auto& [name, count] : unseen_labels) n += count;
  return n;
}
double ClassifierEvaluation::precision() const {
  return ratio(correct, predicted);
}
double ClassifierEvaluation::recall() const {
  return ratio(correct, gold);
}

TextClassifier::TextClassifier(ClassifierOptions options, Dictionary dictionary, Tensor input,
                               Tensor output)
    : options_(std::move(options)),
      dictionary_(std::move(dictionary)),
      input_(std::move(input)),
      output_(std::move(output)) {
  Generator gen(1);  // the scorer's own initial weight is replaced by the output table
  layers_ = std::make_unique<Layers>(options_, dictionary_.labels().counts(), output_, gen);
}

TextClassifier::TextClassifier(TextClassifier&&) noexcept = default;
TextClassifier& TextClassifier::operator=(TextClassifier&&) noexcept = default;
TextClassifier::~TextClassifier() = default;

std::int64_t TextClassifier::bucket_rows() const {
  return options_.bucket_rows();
}

void TextClassifier::append_word_rows(const std::string& word,
                                      std::vector<std::int64_t>& ids) const {
  if (const auto id = dictionary_.words().find(word)) ids.push_back(*id);
  // fastText gives every word of a line, known or not, its character n-grams; "</s>" has none.
  if (!options_.subwords() || word == Dictionary::kEndOfLine) return;
  std::string wrapped;
  wrapped.reserve(word.size() + 2);
  wrapped.push_back('<');
  wrapped.append(word);
  wrapped.push_back('>');
  const std::size_t first = ids.size();
  append_char_ngram_buckets(wrapped, options_.minn, options_.maxn, options_.buckets, ids);
  const std::int64_t num_words = dictionary_.words().size();
  for (std::size_t i = first; i < ids.size(); ++i) ids[i] += num_words;
}

std::vector<std::int64_t> TextClassifier::word_input_ids(const std::string& word) const {
  std::vector<std::int64_t> ids;
  append_word_rows(word, ids);
  return ids;
}

std::vector<std::int64_t> TextClassifier::input_ids(const std::vector<std::string>& words) const {
  std::vector<std::int64_t> ids;
  std::vector<std::uint32_t> hashes;
  ids.reserve(words.size() * static_cast<std::size_t>(options_.word_ngrams) + 1);
  const bool ngrams = options_.word_ngrams > 1;
  const std::int64_t num_words = dictionary_.words().size();
  for (const std::string& w : words) {
    append_word_rows(w, ids);
    if (ngrams) hashes.push_back(word_hash(w));
  }
  if (options_.end_of_line) {
    if (const auto eol = dictionary_.words().find(Dictionary::kEndOfLine)) ids.push_back(*eol);
    // As in fastText, "</s>" is the line's last word for n-grams too.
    if (ngrams) hashes.push_back(word_hash(Dictionary::kEndOfLine));
  }
  if (ngrams) {
    append_word_ngrams(hashes, options_.word_ngrams, options_.buckets, num_words, ids);
  }
  return ids;
}

}  // namespace embedkit::models
