// Training the text classifier: one line at a time on each worker of the hogwild runner
// (hogwild_runner.hpp), the hidden vector the mean of the line's input rows
// (layered_input_bag.hpp), the output side one of the layered output losses
// (layered_output_loss.hpp).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "core/splitmix64.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/models/huffman.hpp"
#include "embedkit/models/negative_sampler.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "models/hogwild_runner.hpp"
#include "models/layered_input_bag.hpp"
#include "models/layered_output_loss.hpp"
#include "models/text_classifier_layers.hpp"
#include "models/token_count.hpp"

namespace embedkit::models {

namespace {

using text_classifier_detail::kInputName;
using text_classifier_detail::kOutputName;

// How many lines a thread trains between publishing its token count (and re-reading everyone's
// for the learning rate) and checking that its loss is still finite.
constexpr std::int64_t kPublishEvery = 64;
// The learning-rate option as `embedkit classify train` spells it, for the divergence error.
constexpr const char* kRateOption = "--lr";

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

class Worker {
 public:
  Worker(Shared& s, std::size_t id)
      : s_(s),
        rng_(thread_rng(splitmix64_hash(training::worker_seed(s.options->seed, id)))),
        input_(s.input),
        grad_(static_cast<std::size_t>(s.options->dim)),
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
    const float* hidden = input_.mean({s_.ids.data() + line.begin, line.end - line.begin});
    const double loss = loss_->update(hidden, label, lr, grad_.data(), rng_);
    input_.update(grad_.data());
    return loss;
  }

  Shared& s_;
  std::size_t begin_ = 0;  // this worker's lines: [begin_, end_)
  std::size_t end_ = 0;
  detail::SplitMix64 rng_;
  training::LayeredInputBag input_;
  std::vector<float> grad_;  // the output loss's gradient for the hidden vector
  std::unique_ptr<training::OutputLoss> loss_;
  training::TokenCount count_;
  std::int64_t since_publish_ = 0;
  double unpublished_loss_ = 0;
  std::int64_t unpublished_lines_ = 0;
};

}  // namespace

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

}  // namespace embedkit::models
