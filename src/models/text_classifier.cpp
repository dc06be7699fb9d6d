#include "embedkit/models/text_classifier.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>

#include "core/splitmix64.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/models/huffman.hpp"
#include "embedkit/models/negative_sampler.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "embedkit/nn/activation.hpp"
#include "embedkit/nn/bce_with_logits_loss.hpp"
#include "embedkit/nn/cross_entropy_loss.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/sgd.hpp"
#include "io/model_metadata.hpp"
#include "models/hogwild_runner.hpp"
#include "models/layered_output_loss.hpp"
#include "models/token_count.hpp"

namespace embedkit::models {

// What prediction needs besides the tables: Linear(dim -> output rows) sharing the output table,
// and the Huffman tree for hs.
struct TextClassifier::Layers {
  Layers(const ClassifierOptions& options, const std::vector<std::int64_t>& label_counts,
         const Tensor& output, Generator& gen)
      : scorer(nn::LinearOptions(options.dim, output.size(0)).bias(false), gen) {
    scorer.weight() = output;
    if (options.loss == ClassifierLoss::HierarchicalSoftmax) {
      tree = std::make_unique<HuffmanTree>(label_counts);
    }
  }
  nn::Linear scorer;
  std::unique_ptr<HuffmanTree> tree;
};

namespace {

// The file's format mark (io/model_metadata.hpp).
constexpr io::detail::ModelFormat kFileFormat{.kind = "text classifier",
                                              .version_key = "text_classifier.version",
                                              .version = "1",
                                              .kind_key = "embedkit.model",
                                              .kind_value = "text_classifier"};
// How many lines a thread trains between publishing its token count (and re-reading everyone's
// for the learning rate) and checking that its loss is still finite.
constexpr std::int64_t kPublishEvery = 64;
// The learning-rate option as `embedkit classify train` spells it, for the divergence error.
constexpr const char* kRateOption = "--lr";
constexpr const char* kInputName = "input.weight";
constexpr const char* kOutputName = "output.weight";

using detail::splitmix64_hash;

// The per-thread generator: splitmix64 (core/splitmix64.hpp) from state seed * gamma, so that its
// k-th draw is splitmix64_hash((seed + k) * gamma).
detail::SplitMix64 thread_rng(std::uint64_t seed) {
  return detail::SplitMix64{seed * detail::kSplitMix64Gamma};
}

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

const Tensor& only_offset() {
  static const Tensor zero = Tensor::from_vector(std::vector<std::int64_t>{0});
  return zero;
}

// One line's training data, precomputed: its input ids and labels.
struct Line {
  std::size_t begin = 0;  // into Shared::ids
  std::size_t end = 0;
  std::vector<std::int64_t> labels;
  std::int64_t tokens = 0;
  std::int64_t number = 0;  // 1-based line number in the file, for errors
};

struct Shared {
  const ClassifierOptions* options = nullptr;
  std::vector<std::int64_t> ids;
  std::vector<Line> lines;
  Tensor input;
  Tensor output;
  const HuffmanTree* tree = nullptr;
  const NegativeSampler* sampler = nullptr;
  std::int64_t num_labels = 0;
  double total_tokens = 0;
  std::atomic<std::int64_t> tokens_done{0};
  // For progress reports: the loss summed over the lines trained so far, as published.
  std::atomic<double> loss_done{0};
  std::atomic<std::int64_t> lines_done{0};
  std::mutex mutex;
  double last_epoch_loss = 0;
  std::int64_t last_epoch_lines = 0;
  const training::HogwildRunner* runner = nullptr;
};

// An optim::SGD with lr 1 over a shared table: the step's gradient already holds the rate.
std::unique_ptr<optim::SGD> unit_sgd(const std::string& name, const Tensor& table) {
  return std::make_unique<optim::SGD>(std::vector<optim::Parameter>{{name, table, std::nullopt}},
                                      optim::SGDOptions(1.0));
}

class Worker {
 public:
  Worker(Shared& s, std::size_t id)
      : s_(s),
        rng_(thread_rng(splitmix64_hash(training::worker_seed(s.options->seed, id)))),
        dim_(s.options->dim),
        bag_(
            nn::EmbeddingBagOptions(s.input.size(0), dim_).mode(nn::BagMode::Mean).weight(s.input)),
        hidden_(Tensor::empty({1, dim_})),
        step_(static_cast<std::size_t>(dim_)),
        grad_hidden_(Tensor::empty({1, dim_})),
        input_sgd_(unit_sgd("input.weight", s.input)),
        count_(s.tokens_done) {
    const auto [begin, end] = training::worker_slice(s.lines.size(), id, s.runner->workers());
    begin_ = static_cast<std::size_t>(begin);
    end_ = static_cast<std::size_t>(end);
    switch (s.options->loss) {
      case ClassifierLoss::Softmax:
        loss_ = std::make_unique<training::LayeredSoftmaxLoss>(s.output);
        break;
      case ClassifierLoss::NegativeSampling:
        loss_ = std::make_unique<training::LayeredLogisticLoss>(s.output, *s.sampler,
                                                                s.options->negative);
        break;
      case ClassifierLoss::HierarchicalSoftmax:
        loss_ = std::make_unique<training::LayeredLogisticLoss>(s.output, *s.tree);
        break;
    }
  }

  void run() {
    const ClassifierOptions& o = *s_.options;
    std::vector<std::size_t> order(end_ - begin_);
    std::iota(order.begin(), order.end(), begin_);
    for (std::int64_t epoch = 0; epoch < o.epochs; ++epoch) {
      if (o.shuffle) {
        for (std::size_t i = order.size(); i > 1; --i) {
          std::swap(order[i - 1], order[rng_.next() % i]);
        }
      }
      double loss = 0;
      std::int64_t trained = 0;
      std::int64_t last_line = 0;
      for (const std::size_t index : order) {
        if (s_.runner->stopping()) return;
        const Line& line = s_.lines[index];
        const double progress =
            static_cast<double>(count_.estimate()) / std::max(1.0, s_.total_tokens);
        const float lr = static_cast<float>(o.lr * std::max(0.0, 1.0 - progress));
        count_.add(line.tokens);
        last_line = line.number;
        if (line.end != line.begin) {
          std::int64_t label = line.labels[0];
          if (line.labels.size() > 1) label = line.labels[rng_.next() % line.labels.size()];
          const double line_loss = step(line, label, lr);
          loss += line_loss;
          unpublished_loss_ += line_loss;
          ++unpublished_lines_;
          ++trained;
        }
        if (++since_publish_ >= kPublishEvery) {
          publish();
          check_loss(loss, epoch, last_line);
        }
      }
      publish();
      check_loss(loss, epoch, last_line);
      if (epoch + 1 == o.epochs) {
        std::lock_guard lock(s_.mutex);
        s_.last_epoch_loss += loss;
        s_.last_epoch_lines += trained;
      }
    }
  }

 private:
  void publish() {
    count_.publish();
    s_.loss_done.fetch_add(unpublished_loss_, std::memory_order_relaxed);
    s_.lines_done.fetch_add(unpublished_lines_, std::memory_order_relaxed);
    unpublished_loss_ = 0;
    unpublished_lines_ = 0;
    since_publish_ = 0;
  }

  // Stops training with TrainingDivergedError once the epoch's loss is not finite: checked every
  // kPublishEvery lines and not per step, so the check costs nothing measurable.
  static void check_loss(double loss, std::int64_t epoch, std::int64_t line) {
    if (!std::isfinite(loss)) {
      throw TrainingDivergedError(epoch + 1, "line", line, non_finite_loss(loss), kRateOption);
    }
  }

  // One SGD step on one line; returns its loss before the step.
  double step(const Line& line, std::int64_t label, float lr) {
    Tensor ids =
        Tensor::from_blob(s_.ids.data() + line.begin,
                          {static_cast<std::int64_t>(line.end - line.begin)}, DType::Int64);
    nn::functional::embedding_bag_into(ids, bag_.weight(), only_offset(), hidden_,
                                       nn::EmbeddingBagFuncOptions().mode(nn::BagMode::Mean));
    const double loss = loss_->update(hidden_.data<float>(), label, lr, step_.data(), rng_);
    // The loss hands back the step; the input table's SGD takes the gradient.
    float* grad = grad_hidden_.data<float>();
    for (std::size_t i = 0; i < step_.size(); ++i) grad[i] = -step_[i];
    optim::fused_backward_step(bag_, ids, only_offset(), grad_hidden_, *input_sgd_);
    return loss;
  }

  Shared& s_;
  std::size_t begin_ = 0;  // this worker's lines: [begin_, end_)
  std::size_t end_ = 0;
  detail::SplitMix64 rng_;
  std::int64_t dim_;
  nn::EmbeddingBag bag_;
  Tensor hidden_;            // [1, dim]
  std::vector<float> step_;  // the loss's step for the hidden vector
  Tensor grad_hidden_;       // [1, dim]: -step_, for the input table's SGD
  std::unique_ptr<optim::SGD> input_sgd_;
  std::unique_ptr<training::OutputLoss> loss_;
  training::TokenCount count_;
  std::int64_t since_publish_ = 0;
  double unpublished_loss_ = 0;
  std::int64_t unpublished_lines_ = 0;
};

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
  return options_.word_ngrams > 1 ? options_.buckets : 0;
}

std::vector<std::int64_t> TextClassifier::input_ids(const std::vector<std::string>& words) const {
  std::vector<std::int64_t> ids;
  std::vector<std::uint32_t> hashes;
  ids.reserve(words.size() * static_cast<std::size_t>(options_.word_ngrams) + 1);
  const bool ngrams = options_.word_ngrams > 1;
  for (const std::string& w : words) {
    if (const auto id = dictionary_.words().find(w)) ids.push_back(*id);
    if (ngrams) hashes.push_back(word_hash(w));
  }
  if (options_.end_of_line) {
    if (const auto eol = dictionary_.words().find(Dictionary::kEndOfLine)) ids.push_back(*eol);
    // As in fastText, "</s>" is the line's last word for n-grams too.
    if (ngrams) hashes.push_back(word_hash(Dictionary::kEndOfLine));
  }
  if (ngrams) {
    append_word_ngrams(hashes, options_.word_ngrams, options_.buckets, dictionary_.words().size(),
                       ids);
  }
  return ids;
}

TextClassifier TextClassifier::train(
    const std::vector<LabelledExample>& data, const ClassifierOptions& options,
    ClassifierTrainStats* stats,
    const std::function<void(const ClassifierProgress&)>& on_progress) {
  options.validate();
  if (data.empty()) throw ValueError("text classifier: no training line");
  const auto start = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  Dictionary dictionary = Dictionary::from_examples(data, options.min_count, options.end_of_line);
  const std::int64_t words = dictionary.words().size();
  const std::int64_t buckets = options.word_ngrams > 1 ? options.buckets : 0;
  const std::int64_t labels = dictionary.labels().size();

  Tensor input = Tensor::empty({words + buckets, options.dim});
  init_uniform(input, 1.0 / static_cast<double>(options.dim), options.seed, options.threads);
  const std::int64_t output_rows = options.loss == ClassifierLoss::HierarchicalSoftmax
                                       ? std::max<std::int64_t>(labels - 1, 1)
                                       : labels;
  std::unique_ptr<NegativeSampler> sampler;
  if (options.loss == ClassifierLoss::NegativeSampling) {
    sampler = std::make_unique<NegativeSampler>(dictionary.labels().counts(), 0.5);
  }
  Tensor output = Tensor::zeros({output_rows, options.dim});
  TextClassifier model(options, std::move(dictionary), input, output);

  Shared s;
  s.options = &model.options_;
  s.input = input;
  s.output = output;
  s.tree = model.layers_->tree.get();
  s.sampler = sampler.get();
  s.num_labels = labels;
  s.lines.reserve(data.size());
  std::int64_t tokens = 0;
  for (const LabelledExample& e : data) {
    Line line;
    const std::vector<std::int64_t> ids = model.input_ids(e.words);
    line.begin = s.ids.size();
    s.ids.insert(s.ids.end(), ids.begin(), ids.end());
    line.end = s.ids.size();
    for (const std::string& l : e.labels) {
      line.labels.push_back(model.dictionary_.labels().at(l));  // counted from these lines
    }
    line.tokens = static_cast<std::int64_t>(e.words.size()) + (options.end_of_line ? 1 : 0);
    line.number = e.line > 0 ? e.line : static_cast<std::int64_t>(s.lines.size()) + 1;
    tokens += line.tokens;
    s.lines.push_back(std::move(line));
  }
  s.total_tokens = static_cast<double>(tokens) * static_cast<double>(options.epochs);

  const auto threads = static_cast<std::size_t>(
      std::min<std::int64_t>(options.threads, static_cast<std::int64_t>(data.size())));
  auto report = [&] {
    ClassifierProgress p;
    p.elapsed_seconds = seconds_since(start);
    p.tokens = s.tokens_done.load(std::memory_order_relaxed);
    p.fraction = std::min(1.0, static_cast<double>(p.tokens) / std::max(1.0, s.total_tokens));
    p.tokens_per_second_per_thread =
        p.elapsed_seconds > 0
            ? static_cast<double>(p.tokens) / p.elapsed_seconds / static_cast<double>(threads)
            : 0;
    p.lr = options.lr * std::max(0.0, 1.0 - p.fraction);
    const std::int64_t lines = s.lines_done.load(std::memory_order_relaxed);
    p.loss =
        lines > 0 ? s.loss_done.load(std::memory_order_relaxed) / static_cast<double>(lines) : 0;
    p.eta_seconds = p.fraction > 0 ? p.elapsed_seconds * (1.0 - p.fraction) / p.fraction : 0;
    on_progress(p);
  };
  training::HogwildRunner runner(threads);
  s.runner = &runner;
  runner.run([&s](std::size_t worker) { Worker(s, worker).run(); },
             on_progress ? std::function<void()>(report) : std::function<void()>(),
             options.progress_interval);
  if (on_progress) report();
  // The last steps after the last loss check can still overflow: one pass over the tables
  // (cheap next to training, which wrote every row when initialising it) makes sure no
  // non-finite model is returned.
  for (const auto& [name, table] :
       {std::pair{kInputName, &input}, std::pair{kOutputName, &output}}) {
    const std::string problem = non_finite_tensor(*table, name);
    if (!problem.empty()) {
      throw TrainingDivergedError(options.epochs, "line", s.lines.back().number, problem,
                                  kRateOption);
    }
  }
  if (stats != nullptr) {
    stats->examples = static_cast<std::int64_t>(data.size());
    stats->tokens = tokens;
    stats->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stats->final_loss =
        s.last_epoch_lines > 0 ? s.last_epoch_loss / static_cast<double>(s.last_epoch_lines) : 0.0;
  }
  return model;
}

std::vector<LabelScore> TextClassifier::predict(const std::vector<std::string>& words,
                                                std::int64_t k, double threshold) const {
  if (k < 1) throw ValueError("text classifier: k must be >= 1, got " + std::to_string(k));
  std::vector<std::int64_t> ids = input_ids(words);
  const std::int64_t dim = options_.dim;
  Tensor hidden = Tensor::zeros({1, dim});
  if (!ids.empty()) {
    Tensor table = input_;  // shares the storage; the lookup does not write it
    nn::functional::embedding_bag_into(
        Tensor::from_blob(ids.data(), {static_cast<std::int64_t>(ids.size())}, DType::Int64), table,
        only_offset(), hidden, nn::EmbeddingBagFuncOptions().mode(nn::BagMode::Mean));
  }
  // Scores of every output row: Linear(dim -> rows) over the output table.
  const Tensor scores = nn::functional::linear(hidden, layers_->scorer.weight());
  const float* z = scores.data<float>();
  const auto labels = static_cast<std::size_t>(dictionary_.labels().size());
  std::vector<double> prob(labels);
  switch (options_.loss) {
    case ClassifierLoss::Softmax: {
      const Tensor p = nn::functional::softmax(scores);
      for (std::size_t i = 0; i < labels; ++i) prob[i] = static_cast<double>(p.data<float>()[i]);
      break;
    }
    case ClassifierLoss::NegativeSampling:
      for (std::size_t i = 0; i < labels; ++i) {
        prob[i] = 1.0 / (1.0 + std::exp(-static_cast<double>(z[i])));
      }
      break;
    case ClassifierLoss::HierarchicalSoftmax:
      for (std::size_t i = 0; i < labels; ++i) {
        const auto code = layers_->tree->code(i);
        const auto points = layers_->tree->points(i);
        double p = 1;
        for (std::size_t d = 0; d < code.size(); ++d) {
          const double x = static_cast<double>(z[points[d]]);
          p *= 1.0 / (1.0 + std::exp(code[d] != 0 ? -x : x));
        }
        prob[i] = p;
      }
      break;
  }
  std::vector<LabelScore> out;
  for (std::size_t i = 0; i < labels; ++i) {
    if (prob[i] >= threshold) out.push_back({static_cast<std::int64_t>(i), prob[i]});
  }
  const auto keep = std::min<std::size_t>(out.size(), static_cast<std::size_t>(k));
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    [](const LabelScore& a, const LabelScore& b) {
                      return a.probability > b.probability ||
                             (a.probability == b.probability && a.label < b.label);
                    });
  out.resize(keep);
  return out;
}

ClassifierEvaluation TextClassifier::evaluate(const std::vector<LabelledExample>& data,
                                              std::int64_t k, double threshold) const {
  ClassifierEvaluation r;
  r.k = k;
  r.threshold = threshold;
  r.per_label.resize(static_cast<std::size_t>(dictionary_.labels().size()));
  std::vector<std::int64_t> gold;
  for (const LabelledExample& e : data) {
    ++r.examples;
    gold.clear();
    for (const std::string& l : e.labels) {
      const std::optional<std::int64_t> id = dictionary_.labels().find(l);
      if (!id) {
        ++r.unseen_labels[l];
        ++r.gold;
        continue;
      }
      if (std::find(gold.begin(), gold.end(), *id) != gold.end()) continue;  // repeated label
      gold.push_back(*id);
      ++r.gold;
      ++r.per_label[static_cast<std::size_t>(*id)].gold;
    }
    for (const LabelScore& p : predict(e.words, k, threshold)) {
      ++r.predicted;
      LabelMetrics& m = r.per_label[static_cast<std::size_t>(p.label)];
      ++m.predicted;
      if (std::find(gold.begin(), gold.end(), p.label) != gold.end()) {
        ++r.correct;
        ++m.correct;
      }
    }
  }
  return r;
}

void TextClassifier::save(const std::filesystem::path& path) const {
  // load() refuses a model with NaN or infinite parameters: never write one.
  for (const auto& [name, table] :
       {std::pair{kInputName, &input_}, std::pair{kOutputName, &output_}}) {
    const std::string problem = non_finite_tensor(*table, name);
    if (!problem.empty()) throw ValueError("text classifier: not saved: " + problem);
  }
  io::detail::ModelMetadataWriter meta(kFileFormat);
  meta.set_int("dim", options_.dim);
  meta.set_number("lr", options_.lr);
  meta.set_int("epochs", options_.epochs);
  meta.set_int("word_ngrams", options_.word_ngrams);
  meta.set_int("buckets", options_.buckets);
  meta.set_int("min_count", options_.min_count);
  meta.set_text("loss", classifier_loss_name(options_.loss));
  meta.set_int("negative", options_.negative);
  meta.set_flag("end_of_line", options_.end_of_line);
  meta.set_flag("shuffle", options_.shuffle);
  meta.set_int("threads", options_.threads);
  meta.set_uint("seed", options_.seed);
  meta.set_escaped_list("label_prefix", {options_.label_prefix});
  meta.set_flag("lowercase", options_.lowercase);
  meta.set_escaped_list("words", dictionary_.words().texts());
  meta.set_escaped_list("labels", dictionary_.labels().texts());
  io::save_safetensors(path,
                       {{kInputName, input_},
                        {kOutputName, output_},
                        {"word_counts", Tensor::from_vector(dictionary_.words().counts())},
                        {"label_counts", Tensor::from_vector(dictionary_.labels().counts())}},
                       meta.metadata());
}

TextClassifier TextClassifier::load(const std::filesystem::path& path) {
  io::SafetensorsContents file = io::load_safetensors(path);
  const io::detail::ModelMetadataReader meta(path.string(), std::move(file.metadata), kFileFormat);
  ClassifierOptions o;
  o.dim = meta.int64("dim");
  o.epochs = meta.int64("epochs");
  o.word_ngrams = meta.int64("word_ngrams");
  o.buckets = meta.int64("buckets");
  o.min_count = meta.int64("min_count");
  o.negative = meta.int64("negative");
  o.threads = meta.int64("threads");
  o.seed = meta.uint64("seed");
  o.end_of_line = meta.flag("end_of_line");
  o.shuffle = meta.flag("shuffle");
  o.lowercase = meta.flag("lowercase");
  o.lr = meta.number("lr");
  const std::vector<std::string> prefix = meta.escaped_list("label_prefix");
  if (prefix.size() != 1) throw meta.error("metadata 'label_prefix' is not one string");
  o.label_prefix = prefix[0];
  try {
    o.loss = parse_classifier_loss(meta.text("loss"));
    o.validate();
  } catch (const ValueError& e) {
    throw meta.error(e.what());
  }

  auto tensor = [&](const std::string& key, DType dtype) -> Tensor {
    for (auto& [n, t] : file.tensors) {
      if (n != key) continue;
      if (t.dtype() != dtype) throw meta.error("tensor '" + key + "' has the wrong dtype");
      return t;
    }
    throw meta.error("tensor '" + key + "' is missing");
  };
  const Tensor word_counts = tensor("word_counts", DType::Int64);
  const Tensor label_counts = tensor("label_counts", DType::Int64);
  Tensor input = tensor(kInputName, DType::Float32);
  Tensor output = tensor(kOutputName, DType::Float32);
  std::vector<std::string> words = meta.escaped_list("words");
  std::vector<std::string> labels = meta.escaped_list("labels");
  if (word_counts.dim() != 1 || label_counts.dim() != 1 ||
      word_counts.numel() != static_cast<std::int64_t>(words.size()) ||
      label_counts.numel() != static_cast<std::int64_t>(labels.size())) {
    throw meta.error("the vocabulary's words or labels do not match their counts");
  }
  // The Huffman tree (hs) adds the label counts up: their sum must fit in int64.
  for (const auto& [key, counts] :
       {std::pair{"word_counts", &word_counts}, std::pair{"label_counts", &label_counts}}) {
    std::int64_t sum = 0;
    const std::int64_t* c = counts->data<std::int64_t>();
    for (std::int64_t i = 0; i < counts->numel(); ++i) {
      if (c[i] < 1 || c[i] > std::numeric_limits<std::int64_t>::max() - sum) {
        throw meta.error("tensor '" + std::string(key) +
                         "' holds a count below 1 or counts whose sum overflows");
      }
      sum += c[i];
    }
  }
  Dictionary dictionary;
  try {
    dictionary = Dictionary::from_parts(std::move(words), word_counts.to_int64_vector(),
                                        std::move(labels), label_counts.to_int64_vector());
  } catch (const ValueError& e) {
    throw meta.error(e.what());
  }
  // Every size the metadata gives is checked against the tensors in the file before anything is
  // built from it. The input rows are words + buckets, compared by subtraction: the sum of a
  // lying 'buckets' could overflow.
  const std::int64_t num_words = dictionary.words().size();
  const std::int64_t bucket_rows = o.word_ngrams > 1 ? o.buckets : 0;
  if (input.dim() != 2 || input.size(0) < num_words || input.size(0) - num_words != bucket_rows ||
      input.size(1) != o.dim) {
    throw meta.error("tensor 'input.weight' is " + shape_string(input.shape()) + ", expected " +
                     std::to_string(num_words) + " words + " + std::to_string(bucket_rows) +
                     " buckets rows of dimension " + std::to_string(o.dim));
  }
  const std::int64_t num_labels = dictionary.labels().size();
  const std::int64_t output_rows = o.loss == ClassifierLoss::HierarchicalSoftmax
                                       ? std::max<std::int64_t>(num_labels - 1, 1)
                                       : num_labels;
  if (output.shape() != Shape{output_rows, o.dim}) {
    throw meta.error("tensor 'output.weight' is " + shape_string(output.shape()) + ", expected " +
                     shape_string({output_rows, o.dim}));
  }
  for (const auto& [key, table] :
       {std::pair{kInputName, &input}, std::pair{kOutputName, &output}}) {
    const std::string problem = non_finite_tensor(*table, key);
    if (!problem.empty()) throw meta.error(problem);
  }
  return TextClassifier(std::move(o), std::move(dictionary), std::move(input), std::move(output));
}

}  // namespace embedkit::models
