// word2vec training: the algorithm of word2vec.c (Mikolov et al. 2013), reimplemented.
//
// Loss reported: for each prediction (skip-gram: one (context, centre) pair; CBOW: one centre),
// the sum of its logistic losses -log sigmoid(+-x) over the positive word and the negative
// samples (negative sampling) or over the nodes of the centre's Huffman path (hierarchical
// softmax); progress and final_loss give its mean per prediction.
#include "embedkit/models/word2vec.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "embedkit/core/error.hpp"
#include "embedkit/models/corpus_reader.hpp"
#include "embedkit/models/huffman.hpp"
#include "embedkit/models/negative_sampler.hpp"
#include "embedkit/models/subsampling.hpp"
#include "embedkit/models/training_divergence.hpp"

namespace embedkit::models {

namespace {

// word2vec.c's limits: sentences are cut at 1000 words, and sigmoid arguments beyond +-6 are
// treated as saturated (the gradient is taken as 0 or +-1 without a table look-up). Unlike
// word2vec.c, hierarchical softmax saturates the same way instead of skipping the node, so a node
// that is confidently wrong still gets corrected.
constexpr std::size_t kMaxSentence = 1000;
constexpr float kMaxExp = 6.0f;
constexpr int kTableSize = 1024;
// How often (in corpus words) a thread publishes its counters, recomputes alpha and checks that
// its loss is still finite.
constexpr std::int64_t kPublishEvery = 10000;
// The learning-rate option as `embedkit train` spells it, for the divergence error.
constexpr const char* kRateOption = "--alpha";

// sigmoid(x) and -log(sigmoid(x)) on [-kMaxExp, kMaxExp], tabulated: a look-up is several
// times cheaper than expf and log1pf, and the training noise dwarfs the table's error.
struct SigmoidTable {
  std::array<float, kTableSize + 1> sigmoid{};
  std::array<float, kTableSize + 1> neg_log_sigmoid{};
  SigmoidTable() {
    for (int i = 0; i <= kTableSize; ++i) {
      const double x = (2.0 * i / kTableSize - 1.0) * kMaxExp;
      sigmoid[static_cast<std::size_t>(i)] = static_cast<float>(1.0 / (1.0 + std::exp(-x)));
      neg_log_sigmoid[static_cast<std::size_t>(i)] = static_cast<float>(std::log1p(std::exp(-x)));
    }
  }
  static std::size_t index(float x) {
    return static_cast<std::size_t>((x + kMaxExp) * (kTableSize / (2.0f * kMaxExp)));
  }
};

const SigmoidTable& sigmoid_table() {
  static const SigmoidTable table;
  return table;
}

// splitmix64: a tiny, fast generator with a fixed algorithm, one per thread.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 24 bits, as a float.
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
};

// Dot product with eight independent partial sums, so the compiler can vectorize it without
// -ffast-math (a single running sum is a serial dependency chain). The summation order is
// fixed, so results are reproducible.
inline float dot(const float* a, const float* b, std::size_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  }
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

inline void axpy(float a, const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Everything the threads share. The tables are written without locks (hogwild).
struct Shared {
  const Word2VecOptions* options = nullptr;
  const Dictionary::Entries* words = nullptr;  // the dictionary's words
  std::filesystem::path corpus;
  std::uint64_t corpus_bytes = 0;
  std::size_t dim = 0;
  float* input = nullptr;   // syn0 [V, dim]
  float* output = nullptr;  // syn1neg [V, dim] or syn1 [inner nodes, dim]
  const NegativeSampler* sampler = nullptr;
  const HuffmanTree* tree = nullptr;
  std::vector<float> keep;  // subsampling keep-probability per word
  double start_alpha = 0;
  double total_words = 0;  // epochs * the words' total count

  std::atomic<std::int64_t> words_done{0};
  std::atomic<std::int64_t> loss_micros{0};  // running loss sum, fixed point 1e-6
  std::atomic<std::int64_t> predictions{0};
  std::mutex epoch_mutex;
  std::vector<double> epoch_loss;  // per epoch, for final_loss
  std::vector<std::int64_t> epoch_predictions;
  std::atomic<bool> failed{false};
  std::exception_ptr error;

  // Words of one epoch (all threads): the unit of the position in a divergence error.
  std::int64_t words_per_epoch() const { return words->total_count(); }
};

class Worker {
 public:
  Worker(Shared& shared, std::size_t id)
      : s_(shared),
        id_(id),
        dim_(shared.dim),
        rng_{shared.options->seed * 0x2545f4914f6cdd1dULL + id + 1},
        hidden_(shared.dim),
        grad_(shared.dim),
        alpha_(static_cast<float>(shared.start_alpha)) {
    sentence_.reserve(kMaxSentence);
  }

  void run() {
    const auto threads = static_cast<std::uint64_t>(s_.options->threads);
    const std::uint64_t begin = s_.corpus_bytes * id_ / threads;
    const std::uint64_t end = s_.corpus_bytes * (id_ + 1) / threads;
    CorpusReader reader(s_.corpus, /*validate=*/false);
    for (std::int64_t epoch = 0; epoch < s_.options->epochs; ++epoch) {
      if (s_.failed.load(std::memory_order_relaxed)) return;
      epoch_ = epoch;
      reader.seek(begin);
      epoch_loss_ = 0;
      epoch_predictions_ = 0;
      bool more = true;
      while (more && !s_.failed.load(std::memory_order_relaxed)) {
        more = read_sentence(reader, end);
        train_sentence();
      }
      publish();
      std::lock_guard lock(s_.epoch_mutex);
      s_.epoch_loss[static_cast<std::size_t>(epoch)] += epoch_loss_;
      s_.epoch_predictions[static_cast<std::size_t>(epoch)] += epoch_predictions_;
    }
  }

 private:
  // Fills sentence_ with the next sentence's kept word ids; false once the slice is exhausted.
  bool read_sentence(CorpusReader& reader, std::uint64_t end) {
    sentence_.clear();
    while (sentence_.size() < kMaxSentence) {
      const auto event = reader.next();
      if (event == CorpusReader::Event::EndOfFile || reader.offset() >= end) return false;
      if (event == CorpusReader::Event::EndOfLine) {
        if (!sentence_.empty()) return true;
        continue;
      }
      const std::optional<std::int64_t> found = s_.words->find(reader.word());
      if (!found) continue;
      const auto id = static_cast<std::int32_t>(*found);  // < 2^31: checked in train_word2vec
      ++words_;
      if (words_ - published_ >= kPublishEvery) publish();
      const float keep = s_.keep[static_cast<std::size_t>(id)];
      if (keep < 1.0f && keep < rng_.uniform()) continue;
      sentence_.push_back(id);
    }
    return true;
  }

  // Publishes the counters, and stops training with TrainingDivergedError when the loss since
  // the last call is not finite: checked here, every kPublishEvery words, and not per update,
  // so the check costs nothing measurable.
  void publish() {
    const std::int64_t done =
        s_.words_done.fetch_add(words_ - published_, std::memory_order_relaxed) + words_ -
        published_;
    published_ = words_;
    if (!std::isfinite(interval_loss_)) diverged(done);
    s_.loss_micros.fetch_add(std::llround(interval_loss_ * 1e6), std::memory_order_relaxed);
    s_.predictions.fetch_add(interval_predictions_, std::memory_order_relaxed);
    epoch_loss_ += interval_loss_;
    epoch_predictions_ += interval_predictions_;
    interval_loss_ = 0;
    interval_predictions_ = 0;
    const double progress = static_cast<double>(done) / (s_.total_words + 1);
    alpha_ = static_cast<float>(s_.options->alpha_at(progress));
  }

  // Out of line and cold: built inline, the error cost the inlined hot loop 1.5% more
  // instructions (callgrind, 100k words, dim 100).
  [[noreturn, gnu::cold, gnu::noinline]] void diverged(std::int64_t done) const {
    // The position: words of this epoch done by all threads (exact with one thread).
    const std::int64_t in_epoch =
        std::clamp<std::int64_t>(done - epoch_ * s_.words_per_epoch(), 0, s_.words_per_epoch());
    throw TrainingDivergedError(epoch_ + 1, "word", in_epoch, non_finite_loss(interval_loss_),
                                kRateOption);
  }

  void train_sentence() {
    const auto n = static_cast<std::ptrdiff_t>(sentence_.size());
    const auto window = static_cast<std::ptrdiff_t>(s_.options->window);
    const bool cbow = s_.options->architecture == Word2VecArchitecture::Cbow;
    for (std::ptrdiff_t pos = 0; pos < n; ++pos) {
      // The dynamic window: a random shrink b in [0, window) weights near words more.
      const auto b = static_cast<std::ptrdiff_t>(rng_.next() % static_cast<std::uint64_t>(window));
      const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, pos - window + b);
      const std::ptrdiff_t hi = std::min<std::ptrdiff_t>(n - 1, pos + window - b);
      const std::int32_t centre = sentence_[static_cast<std::size_t>(pos)];
      if (cbow) {
        std::fill(hidden_.begin(), hidden_.end(), 0.0f);
        int count = 0;
        for (std::ptrdiff_t c = lo; c <= hi; ++c) {
          if (c == pos) continue;
          axpy(1.0f, row(s_.input, sentence_[static_cast<std::size_t>(c)]), hidden_.data(), dim_);
          ++count;
        }
        if (count == 0) continue;
        const float inv = 1.0f / static_cast<float>(count);
        for (float& h : hidden_) h *= inv;
        predict(hidden_.data(), centre);
        for (std::ptrdiff_t c = lo; c <= hi; ++c) {
          if (c == pos) continue;
          axpy(1.0f, grad_.data(), row(s_.input, sentence_[static_cast<std::size_t>(c)]), dim_);
        }
      } else {
        // Skip-gram, as word2vec.c: each context word's input vector predicts the centre.
        for (std::ptrdiff_t c = lo; c <= hi; ++c) {
          if (c == pos) continue;
          float* in = row(s_.input, sentence_[static_cast<std::size_t>(c)]);
          predict(in, centre);
          axpy(1.0f, grad_.data(), in, dim_);
        }
      }
    }
  }

  // One prediction of `target` from the hidden vector h: updates the output rows and leaves the
  // gradient for h in grad_.
  void predict(const float* h, std::int32_t target) {
    const SigmoidTable& table = sigmoid_table();
    std::fill(grad_.begin(), grad_.end(), 0.0f);
    double loss = 0;
    auto step = [&](float* out, float label) {
      const float f = dot(h, out, dim_);
      float g;
      // Saturated arguments need no table. What is left is in [-kMaxExp, kMaxExp] or NaN, and a
      // NaN must not be converted to an index (undefined behaviour): it moves nothing and goes
      // into the loss, for publish() to report.
      if (f > kMaxExp) {
        g = label - 1.0f;
        loss += label > 0 ? 0.0 : static_cast<double>(f);
      } else if (f < -kMaxExp) {
        g = label;
        loss += label > 0 ? static_cast<double>(-f) : 0.0;
      } else if (!std::isnan(f)) {
        const std::size_t i = SigmoidTable::index(f);
        g = label - table.sigmoid[i];
        loss += label > 0 ? table.neg_log_sigmoid[i] : table.neg_log_sigmoid[kTableSize - i];
      } else {
        g = 0.0f;
        loss += static_cast<double>(f);
      }
      g *= alpha_;
      axpy(g, out, grad_.data(), dim_);
      axpy(g, h, out, dim_);
    };
    if (s_.options->loss == Word2VecLoss::NegativeSampling) {
      step(row(s_.output, target), 1.0f);
      for (std::int64_t k = 0; k < s_.options->negative; ++k) {
        const std::int32_t neg = s_.sampler->sample(rng_.next());
        if (neg == target) continue;
        step(row(s_.output, neg), 0.0f);
      }
    } else {
      const auto code = s_.tree->code(static_cast<std::size_t>(target));
      const auto points = s_.tree->points(static_cast<std::size_t>(target));
      for (std::size_t d = 0; d < code.size(); ++d) {
        // word2vec.c's convention: branch 0 is the "positive" side (label 1 - code).
        step(row(s_.output, points[d]), 1.0f - static_cast<float>(code[d]));
      }
    }
    interval_loss_ += loss;
    ++interval_predictions_;
  }

  float* row(float* table, std::int32_t id) const {
    return table + static_cast<std::size_t>(id) * dim_;
  }

  Shared& s_;
  std::size_t id_;
  std::size_t dim_;
  Rng rng_;
  std::vector<std::int32_t> sentence_;
  std::vector<float> hidden_;
  std::vector<float> grad_;
  float alpha_;
  std::int64_t epoch_ = 0;  // 0-based
  std::int64_t words_ = 0;
  std::int64_t published_ = 0;
  double interval_loss_ = 0;
  std::int64_t interval_predictions_ = 0;
  double epoch_loss_ = 0;
  std::int64_t epoch_predictions_ = 0;
};

}  // namespace

void Word2VecOptions::validate() const {
  auto fail = [](const std::string& what) { throw ValueError("word2vec: " + what); };
  if (dim < 1) fail("dim must be >= 1, got " + std::to_string(dim));
  if (window < 1) fail("window must be >= 1, got " + std::to_string(window));
  if (loss == Word2VecLoss::NegativeSampling && negative < 1) {
    fail("negative must be >= 1 with negative sampling, got " + std::to_string(negative));
  }
  if (min_count < 1) fail("min_count must be >= 1, got " + std::to_string(min_count));
  if (max_vocab < 0) fail("max_vocab must be >= 0, got " + std::to_string(max_vocab));
  if (!(sample >= 0) || !std::isfinite(sample)) fail("sample must be >= 0");
  if (epochs < 1) fail("epochs must be >= 1, got " + std::to_string(epochs));
  if (!(alpha >= 0) || !std::isfinite(alpha)) fail("alpha must be >= 0 (0: the default)");
  if (min_alpha && (!(*min_alpha >= 0) || !std::isfinite(*min_alpha))) {
    fail("min_alpha must be >= 0");
  }
  if (!std::isfinite(ns_exponent)) fail("ns_exponent must be finite");
  if (threads < 1 || threads > 1024)
    fail("threads must be in [1, 1024], got " + std::to_string(threads));
  if (!(progress_interval > 0)) fail("progress_interval must be > 0");
}

double Word2VecOptions::start_alpha() const {
  if (alpha > 0) return alpha;
  return architecture == Word2VecArchitecture::Cbow ? 0.05 : 0.025;
}

double Word2VecOptions::alpha_at(double progress) const {
  const double start = start_alpha();
  if (!min_alpha) return start * std::max(1.0 - progress, 1e-4);
  return std::max(start - (start - *min_alpha) * progress, *min_alpha);
}

Word2VecResult train_word2vec(const std::filesystem::path& corpus, const Word2VecOptions& options,
                              const std::function<void(const Word2VecProgress&)>& on_progress) {
  options.validate();
  Word2VecResult result;
  // The counting pass reports too (fraction 0, no words trained yet), so that a long count can
  // be cancelled from on_progress as training can.
  using Clock = std::chrono::steady_clock;
  const auto counting_start = Clock::now();
  double last_counting_report = 0;
  auto counting_tick = [&] {
    const double t = std::chrono::duration<double>(Clock::now() - counting_start).count();
    if (!on_progress || t - last_counting_report < options.progress_interval) return;
    last_counting_report = t;
    Word2VecProgress p;
    p.alpha = options.start_alpha();
    on_progress(p);
  };
  result.dictionary = Dictionary::from_corpus(corpus, options.min_count, options.max_vocab,
                                              &result.corpus, counting_tick);
  const Dictionary::Entries& words = result.dictionary.words();
  // The training loop holds word ids as int32 (word2vec.c's int), half the memory of its
  // sentences and samples.
  if (words.size() > std::numeric_limits<std::int32_t>::max()) {
    throw ValueError("vocabulary: more than 2^31 - 1 words; set max_vocab");
  }
  const auto v = static_cast<std::size_t>(words.size());
  const auto dim = static_cast<std::size_t>(options.dim);

  Shared s;
  s.options = &options;
  s.words = &words;
  s.corpus = corpus;
  s.corpus_bytes = result.corpus.bytes;
  s.dim = dim;
  s.start_alpha = options.start_alpha();
  s.total_words = static_cast<double>(options.epochs) * static_cast<double>(words.total_count());
  s.keep.resize(v);
  for (std::size_t i = 0; i < v; ++i) {
    s.keep[i] = static_cast<float>(keep_probability(words.count(static_cast<std::int64_t>(i)),
                                                    words.total_count(), options.sample));
  }
  s.epoch_loss.assign(static_cast<std::size_t>(options.epochs), 0.0);
  s.epoch_predictions.assign(static_cast<std::size_t>(options.epochs), 0);

  // Input vectors uniform in [-1, 1) / dim, as gensim and fastText start them; output vectors
  // zero. word2vec.c's start is half as wide, [-0.5, 0.5) / dim: on Brown (skip-gram, 5 epochs,
  // one thread, 12 seeds) it cost 0.15 points of analogy accuracy (BENCHMARKS.md).
  result.vectors = Tensor::empty({static_cast<std::int64_t>(v), options.dim});
  s.input = result.vectors.data<float>();
  {
    Rng init{options.seed};
    for (std::size_t i = 0; i < v * dim; ++i) {
      s.input[i] = (2.0f * init.uniform() - 1.0f) / static_cast<float>(dim);
    }
  }
  std::unique_ptr<NegativeSampler> sampler;
  std::unique_ptr<HuffmanTree> tree;
  std::size_t output_rows = v;
  if (options.loss == Word2VecLoss::NegativeSampling) {
    sampler = std::make_unique<NegativeSampler>(words.counts(), options.ns_exponent);
    s.sampler = sampler.get();
  } else {
    tree = std::make_unique<HuffmanTree>(words.counts());
    s.tree = tree.get();
    output_rows = tree->inner_nodes();
  }
  std::vector<float> output(output_rows * dim, 0.0f);
  s.output = output.data();

  const auto start = Clock::now();
  const auto threads = static_cast<std::size_t>(options.threads);
  std::atomic<std::size_t> running{threads};
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&s, &running, t] {
      try {
        Worker(s, t).run();
      } catch (...) {
        std::lock_guard lock(s.epoch_mutex);
        if (!s.failed.exchange(true)) s.error = std::current_exception();
      }
      running.fetch_sub(1);
    });
  }

  // The calling thread reports progress while the workers train.
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  std::int64_t last_loss = 0, last_predictions = 0;
  double last_report = 0;
  auto report = [&] {
    Word2VecProgress p;
    p.elapsed_seconds = seconds_since(start);
    p.words = s.words_done.load();
    p.fraction = std::min(1.0, static_cast<double>(p.words) / std::max(1.0, s.total_words));
    p.words_per_second =
        p.elapsed_seconds > 0 ? static_cast<double>(p.words) / p.elapsed_seconds : 0;
    const std::int64_t loss = s.loss_micros.load(), predictions = s.predictions.load();
    if (predictions > last_predictions) {
      p.loss = static_cast<double>(loss - last_loss) * 1e-6 /
               static_cast<double>(predictions - last_predictions);
    }
    last_loss = loss;
    last_predictions = predictions;
    p.alpha = options.alpha_at(p.fraction);
    p.eta_seconds = p.fraction > 0 ? p.elapsed_seconds * (1.0 - p.fraction) / p.fraction : 0;
    on_progress(p);
  };
  // An exception from on_progress stops the workers (through `failed`) and is rethrown once they
  // are joined: a joinable std::thread destroyed by the unwinding would call std::terminate.
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (on_progress && !s.failed.load() &&
        seconds_since(start) - last_report >= options.progress_interval) {
      last_report = seconds_since(start);
      try {
        report();
      } catch (...) {
        std::lock_guard lock(s.epoch_mutex);
        if (!s.failed.exchange(true)) s.error = std::current_exception();
      }
    }
  }
  for (auto& th : pool) th.join();
  if (s.error) std::rethrow_exception(s.error);
  // The last updates after the last loss check can still overflow: one pass over the vectors
  // (cheap next to training, which touches every row many times) makes sure none is returned.
  if (first_non_finite(result.vectors) >= 0) {
    throw TrainingDivergedError(options.epochs, "word", s.words_per_epoch(),
                                "a word vector is not finite", kRateOption);
  }
  if (on_progress) report();

  result.seconds = seconds_since(start);
  result.words_trained = s.words_done.load();
  result.words_per_second =
      result.seconds > 0 ? static_cast<double>(result.words_trained) / result.seconds : 0;
  const std::size_t last = s.epoch_loss.size() - 1;
  result.final_loss = s.epoch_predictions[last] > 0
                          ? s.epoch_loss[last] / static_cast<double>(s.epoch_predictions[last])
                          : 0;
  return result;
}

}  // namespace embedkit::models
