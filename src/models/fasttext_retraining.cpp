// quantize's retraining (fasttext_retraining.hpp): the training lines mapped onto the kept rows,
// then the classifier's SGD (classifier_sgd.hpp) on them.
#include "embedkit/models/fasttext_retraining.hpp"

#include <chrono>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>

#include "embedkit/core/error.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "models/classifier_sgd.hpp"

namespace embedkit::models {

namespace {

constexpr std::string_view kWhat = "quantize --retrain: ";

ClassifierOptions training_options(const io::FastTextModelFile& model,
                                   const FastTextRetraining& r) {
  auto fail = [](const std::string& why) { throw ValueError(std::string(kWhat) + why); };
  if (model.args.model != io::FastTextModelType::Supervised) fail("the model is not supervised");
  if (model.quantized_input || model.quantized_output || !model.input.defined() ||
      !model.output.defined()) {
    fail("the model is already quantized");
  }
  ClassifierOptions o;
  o.dim = model.args.dim;
  switch (model.args.loss) {
    case io::FastTextLoss::Softmax:
      o.loss = ClassifierLoss::Softmax;
      break;
    case io::FastTextLoss::NegativeSampling:
      o.loss = ClassifierLoss::NegativeSampling;
      o.negative = model.args.neg;
      break;
    default:
      fail("the model's loss is " + std::string(io::fasttext_loss_name(model.args.loss)) +
           "; retraining supports softmax and ns (fastText's hs tree is built in another order "
           "than embedkit's, and ova is not trained here)");
  }
  if (r.epochs < 1) fail("epochs must be >= 1, got " + std::to_string(r.epochs));
  if (!(r.lr > 0) || !std::isfinite(r.lr)) fail("lr must be > 0, got " + std::to_string(r.lr));
  if (r.threads < 1) fail("threads must be >= 1, got " + std::to_string(r.threads));
  if (o.negative < 1) fail("the model's neg must be >= 1 for ns");
  o.epochs = r.epochs;
  o.lr = r.lr;
  o.threads = r.threads;
  o.seed = r.seed;
  o.shuffle = true;
  if (r.progress_interval > 0) o.progress_interval = r.progress_interval;
  return o;
}

}  // namespace

void retrain_pruned_rows(const io::FastTextModelFile& model, const FastTextPruning& pruning,
                         Tensor& input, Tensor& output, const FastTextRetraining& r) {
  const auto start = std::chrono::steady_clock::now();
  const ClassifierOptions options = training_options(model, r);
  if (r.lines == nullptr || r.lines->empty()) {
    throw ValueError(std::string(kWhat) + "no training line");
  }
  const auto kept_rows = static_cast<std::int64_t>(pruning.rows.size());
  if (input.dim() != 2 || input.size(0) != kept_rows || input.size(1) != model.args.dim ||
      output.dim() != 2 || output.size(0) != model.output.size(0) ||
      output.size(1) != model.args.dim) {
    throw ValueError(std::string(kWhat) + "the tables do not match the pruning");
  }
  // Original input row -> kept row (-1: dropped).
  std::vector<std::int64_t> kept(static_cast<std::size_t>(model.input_rows()), -1);
  for (std::int64_t i = 0; i < kept_rows; ++i) {
    kept[static_cast<std::size_t>(pruning.rows[static_cast<std::size_t>(i)])] = i;
  }
  // The unpruned model reads the line; its rows mapped through `kept` are what the pruned
  // dictionary gives (the words kept keep their n-grams, a dropped word's n-grams stay).
  const FastTextModel original(model);  // shares the tables, copies the dictionary
  std::unordered_map<std::string, std::int64_t> label_ids;
  std::vector<std::int64_t> counts;
  for (const io::FastTextEntry& e : model.dictionary.labels) {
    label_ids.emplace(e.text, static_cast<std::int64_t>(counts.size()));
    counts.push_back(e.count);
  }
  training::ClassifierLines lines;
  lines.lines.reserve(r.lines->size());
  std::int64_t trainable = 0;
  for (const LabelledExample& e : *r.lines) {
    training::ClassifierLine line;
    line.begin = lines.ids.size();
    for (const std::int64_t row : original.line_rows(e.words)) {
      const std::int64_t k = kept[static_cast<std::size_t>(row)];
      if (k >= 0) lines.ids.push_back(k);
    }
    line.end = lines.ids.size();
    for (const std::string& l : e.labels) {
      const auto found = label_ids.find(r.label_prefix + l);
      if (found != label_ids.end()) line.labels.push_back(found->second);
    }
    line.tokens = static_cast<std::int64_t>(e.words.size()) + 1;  // and "</s>"
    line.number = e.line > 0 ? e.line : static_cast<std::int64_t>(lines.lines.size()) + 1;
    lines.tokens += line.tokens;
    trainable += line.end != line.begin && !line.labels.empty();
    lines.lines.push_back(std::move(line));
  }
  if (trainable == 0) {
    throw ValueError(std::string(kWhat) + "none of the " + std::to_string(r.lines->size()) +
                     " training lines carries a label of the model (label prefix '" +
                     r.label_prefix + "') with a kept input row");
  }
  training::train_classifier_lines(lines, input, output, options, counts, nullptr, r.stats,
                                   r.on_progress, start);
}

}  // namespace embedkit::models
