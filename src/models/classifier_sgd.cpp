// The classifier's SGD over prepared lines (classifier_sgd.hpp).
#include "models/classifier_sgd.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <utility>

#include "core/splitmix64.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/models/negative_sampler.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "models/hogwild_runner.hpp"
#include "models/layered_input_bag.hpp"
#include "models/layered_output_loss.hpp"
#include "models/text_classifier_layers.hpp"
#include "models/token_count.hpp"

namespace embedkit::models::training {

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

struct Shared {
  const ClassifierOptions* options = nullptr;
  const std::vector<std::int64_t>* ids = nullptr;
  const std::vector<ClassifierLine>* lines = nullptr;
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
  const HogwildRunner* runner = nullptr;
};

class Worker {
 public:
  Worker(Shared& s, std::size_t id)
      : s_(s),
        rng_(thread_rng(splitmix64_hash(worker_seed(s.options->seed, id)))),
        input_(s.input),
        grad_(static_cast<std::size_t>(s.options->dim)),
        count_(s.tokens_done) {
    const auto [begin, end] = worker_slice(s.lines->size(), id, s.runner->workers());
    begin_ = static_cast<std::size_t>(begin);
    end_ = static_cast<std::size_t>(end);
    switch (s.options->loss) {
      case ClassifierLoss::Softmax:
        loss_ = std::make_unique<LayeredSoftmaxLoss>(s.output);
        break;
      case ClassifierLoss::NegativeSampling:
        loss_ = std::make_unique<LayeredLogisticLoss>(s.output, *s.sampler, s.options->negative);
        break;
      case ClassifierLoss::HierarchicalSoftmax:
        loss_ = std::make_unique<LayeredLogisticLoss>(s.output, *s.tree);
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
        const ClassifierLine& line = (*s_.lines)[index];
        const double progress =
            static_cast<double>(count_.estimate()) / std::max(1.0, s_.total_tokens);
        const float lr = static_cast<float>(o.lr * std::max(0.0, 1.0 - progress));
        count_.add(line.tokens);
        last_line = line.number;
        if (line.end != line.begin && !line.labels.empty()) {
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
  double step(const ClassifierLine& line, std::int64_t label, float lr) {
    const float* hidden = input_.mean({s_.ids->data() + line.begin, line.end - line.begin});
    const double loss = loss_->update(hidden, label, lr, grad_.data(), rng_);
    input_.update(grad_.data());
    return loss;
  }

  Shared& s_;
  std::size_t begin_ = 0;  // this worker's lines: [begin_, end_)
  std::size_t end_ = 0;
  detail::SplitMix64 rng_;
  LayeredInputBag input_;
  std::vector<float> grad_;  // the output loss's gradient for the hidden vector
  std::unique_ptr<OutputLoss> loss_;
  TokenCount count_;
  std::int64_t since_publish_ = 0;
  double unpublished_loss_ = 0;
  std::int64_t unpublished_lines_ = 0;
};

}  // namespace

void train_classifier_lines(const ClassifierLines& data, Tensor& input, Tensor& output,
                            const ClassifierOptions& options,
                            const std::vector<std::int64_t>& label_counts, const HuffmanTree* tree,
                            ClassifierTrainStats* stats,
                            const std::function<void(const ClassifierProgress&)>& on_progress,
                            std::chrono::steady_clock::time_point start) {
  if (data.lines.empty()) throw ValueError("text classifier: no training line");
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  std::unique_ptr<NegativeSampler> sampler;
  if (options.loss == ClassifierLoss::NegativeSampling) {
    sampler = std::make_unique<NegativeSampler>(label_counts, 0.5);
  }
  Shared s;
  s.options = &options;
  s.input = input;
  s.output = output;
  s.tree = tree;
  s.sampler = sampler.get();
  s.num_labels = static_cast<std::int64_t>(label_counts.size());
  s.ids = &data.ids;
  s.lines = &data.lines;
  s.total_tokens = static_cast<double>(data.tokens) * static_cast<double>(options.epochs);

  const auto threads = static_cast<std::size_t>(
      std::min<std::int64_t>(options.threads, static_cast<std::int64_t>(data.lines.size())));
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
  HogwildRunner runner(threads);
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
      throw TrainingDivergedError(options.epochs, "line", data.lines.back().number, problem,
                                  kRateOption);
    }
  }
  if (stats != nullptr) {
    stats->examples = static_cast<std::int64_t>(data.lines.size());
    stats->tokens = data.tokens;
    stats->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stats->final_loss =
        s.last_epoch_lines > 0 ? s.last_epoch_loss / static_cast<double>(s.last_epoch_lines) : 0.0;
  }
}

}  // namespace embedkit::models::training
