// Training the text classifier: the model's tables initialised, each line's input ids and labels
// computed, then the SGD of classifier_sgd.hpp.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "core/splitmix64.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "models/classifier_sgd.hpp"
#include "models/text_classifier_layers.hpp"

namespace embedkit::models {

namespace {

using detail::splitmix64_hash;

// Uniform in [-bound, bound], each value a function of (seed, index) only, filled by `threads`
// threads in parallel.
void init_uniform(Tensor& table, double bound, std::uint64_t seed, std::int64_t threads) {
  float* w = table.data<float>();
  const auto n = static_cast<std::uint64_t>(table.numel());
  const std::uint64_t key = splitmix64_hash(seed ^ 0x7ab1e5eedULL);
  auto fill = [&](std::uint64_t begin, std::uint64_t end) {
    for (std::uint64_t i = begin; i < end; ++i) {
      const double u = static_cast<double>(splitmix64_hash(key + i) >> 11) * 0x1.0p-53;  // [0, 1)
      w[i] = static_cast<float>((2 * u - 1) * bound);
    }
  };
  const auto t = static_cast<std::uint64_t>(std::max<std::int64_t>(1, threads));
  if (t == 1 || n < (1u << 16)) {
    fill(0, n);
    return;
  }
  std::vector<std::thread> pool;
  for (std::uint64_t k = 0; k < t; ++k) pool.emplace_back(fill, n * k / t, n * (k + 1) / t);
  for (auto& th : pool) th.join();
}

// The vectors of -pretrainedVectors, as float32, checked against the model's dimension.
io::WordVectors read_pretrained_vectors(const std::filesystem::path& path, std::int64_t dim) {
  io::WordVectors v = io::load_word_vectors(path);
  if (v.matrix.dim() != 2 || v.matrix.size(1) != dim) {
    throw ValueError(path.string() + ": pretrained vectors of dimension " +
                     std::to_string(v.matrix.dim() == 2 ? v.matrix.size(1) : 0) +
                     " do not match the model's dim " + std::to_string(dim));
  }
  if (v.matrix.dtype() != DType::Float32) v.matrix = v.matrix.to(DType::Float32);
  return v;
}

// Copies each pretrained vector into its word's input row (every pretrained word is in the
// dictionary: Dictionary::with_words put it there).
void start_from(Tensor& input, const Dictionary& dictionary, const io::WordVectors& pretrained) {
  const auto dim = static_cast<std::size_t>(input.size(1));
  const float* from = pretrained.matrix.data<float>();
  float* to = input.data<float>();
  for (std::size_t i = 0; i < pretrained.words.size(); ++i) {
    const std::int64_t row = dictionary.words().at(pretrained.words[i]);
    std::copy_n(from + i * dim, dim, to + static_cast<std::size_t>(row) * dim);
  }
}

}  // namespace

TextClassifier TextClassifier::train(
    const std::vector<LabelledExample>& data, const ClassifierOptions& options,
    ClassifierTrainStats* stats,
    const std::function<void(const ClassifierProgress&)>& on_progress) {
  options.validate();
  if (data.empty()) throw ValueError("text classifier: no training line");
  const auto start = std::chrono::steady_clock::now();
  Dictionary dictionary = Dictionary::from_examples(data, options.min_count, options.end_of_line);
  std::optional<io::WordVectors> pretrained;
  if (!options.pretrained_vectors.empty()) {
    pretrained = read_pretrained_vectors(options.pretrained_vectors, options.dim);
    dictionary = dictionary.with_words(pretrained->words, options.label_prefix);
  }
  const std::int64_t words = dictionary.words().size();
  const std::int64_t buckets = options.bucket_rows();
  const std::int64_t labels = dictionary.labels().size();

  Tensor input = Tensor::empty({words + buckets, options.dim});
  init_uniform(input, 1.0 / static_cast<double>(options.dim), options.seed, options.threads);
  if (pretrained) start_from(input, dictionary, *pretrained);
  const std::int64_t output_rows = options.loss == ClassifierLoss::HierarchicalSoftmax
                                       ? std::max<std::int64_t>(labels - 1, 1)
                                       : labels;
  Tensor output = Tensor::zeros({output_rows, options.dim});
  TextClassifier model(options, std::move(dictionary), input, output);

  training::ClassifierLines lines;
  lines.lines.reserve(data.size());
  for (const LabelledExample& e : data) {
    training::ClassifierLine line;
    const std::vector<std::int64_t> ids = model.input_ids(e.words);
    line.begin = lines.ids.size();
    lines.ids.insert(lines.ids.end(), ids.begin(), ids.end());
    line.end = lines.ids.size();
    for (const std::string& l : e.labels) {
      line.labels.push_back(model.dictionary_.labels().at(l));  // counted from these lines
    }
    line.tokens = static_cast<std::int64_t>(e.words.size()) + (options.end_of_line ? 1 : 0);
    line.number = e.line > 0 ? e.line : static_cast<std::int64_t>(lines.lines.size()) + 1;
    lines.tokens += line.tokens;
    lines.lines.push_back(std::move(line));
  }
  training::train_classifier_lines(lines, input, output, model.options_,
                                   model.dictionary_.labels().counts(), model.layers_->tree.get(),
                                   stats, on_progress, start);
  return model;
}

}  // namespace embedkit::models
