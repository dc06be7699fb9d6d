// word2vec training: the algorithm of word2vec.c (Mikolov et al. 2013), reimplemented on the
// shared training core: the hogwild runner (hogwild_runner.hpp) runs one Worker per thread over
// its byte slice of the corpus; a Worker reads sentences, subsamples and draws the window, and
// trains each prediction with a MeanInputBag (the hidden vector) and a logistic output loss
// (logistic_output_loss.hpp). The learning-rate schedule is word2vec.c's (or gensim's).
//
// With subwords (word2vec.hpp), each word's input rows (its own, then its n-grams') are listed
// once before training (SubwordRows), and the bag of a word is those rows.
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
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/splitmix64.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/models/corpus_reader.hpp"
#include "embedkit/models/huffman.hpp"
#include "embedkit/models/negative_sampler.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/subsampling.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "models/hogwild_runner.hpp"
#include "models/logistic_output_loss.hpp"
#include "models/mean_input_bag.hpp"
#include "models/token_count.hpp"
#include "models/vector_ops.hpp"

namespace embedkit::models {

namespace {

// word2vec.c's limit: sentences are cut at 1000 words.
constexpr std::size_t kMaxSentence = 1000;
// Column shards: a batch also ends once one row has been used this many times in it (after the
// prediction that reached it, within a sentence if need be). Its scores are the batch's first, so a
// row used n times moves n times on one stale coefficient. On the corpus of 64 equally frequent
// words of tests/dist/word2vec_test.sh, batches of 1000 words (the most used row: 299 uses on
// average, 343 at most) diverged and batches of 700 (217, 273) did not; on Brown, batches of 1000
// words (540, 700) trained as well as one update at a time (BENCHMARKS.md, "word2vec over column
// shards").
constexpr std::uint32_t kMaxRowTouches = 128;
// How often (in corpus words) a thread publishes its counters, recomputes alpha and checks that
// its loss is still finite.
constexpr std::int64_t kPublishEvery = 10000;
// The learning-rate option as `embedkit train` spells it, for the divergence error.
constexpr const char* kRateOption = "--lr";

// Each word's input rows with subwords: row i, then its character n-grams' rows (V + bucket),
// in fastText's order (FastTextModel::subword_rows gives the same list).
class SubwordRows {
 public:
  SubwordRows(const Dictionary::Entries& words, const Word2VecOptions& options) {
    const auto v = words.size();
    offsets_.reserve(static_cast<std::size_t>(v) + 1);
    // The n-gram rows: the buckets', after the v words' rows.
    offsets_.push_back(0);
    std::vector<std::int64_t> buckets;
    std::string wrapped;
    for (std::int64_t i = 0; i < v; ++i) {
      rows_.push_back(i);
      const std::string& text = words.text(i);
      wrapped.resize(text.size() + 2);
      wrapped.front() = '<';
      std::copy(text.begin(), text.end(), wrapped.begin() + 1);
      wrapped.back() = '>';
      buckets.clear();
      append_char_ngram_buckets(wrapped, options.minn, options.maxn, options.bucket, buckets);
      for (const std::int64_t b : buckets) rows_.push_back(v + b);
      offsets_.push_back(rows_.size());
    }
  }

  std::span<const std::int64_t> of(std::int64_t word) const {
    const auto w = static_cast<std::size_t>(word);
    return {rows_.data() + offsets_[w], offsets_[w + 1] - offsets_[w]};
  }

 private:
  std::vector<std::size_t> offsets_;
  std::vector<std::int64_t> rows_;
};

// Everything the threads share. The tables are written without locks (hogwild).
struct Shared {
  const Word2VecOptions* options = nullptr;
  const Dictionary::Entries* words = nullptr;  // the dictionary's words
  std::filesystem::path corpus;
  // This process's byte range of the corpus: the whole corpus, or its part of a data-parallel
  // job (Word2VecDataParallel); its threads split it.
  std::uint64_t part_begin = 0;
  std::uint64_t part_end = 0;
  std::size_t first_worker = 0;  // this process's first worker among all processes' workers
  std::size_t dim = 0;  // the tables' row width: dim, or this process's columns (columns below)
  // Column-sharded training (Word2VecColumnShards): this process's columns of the tables, and
  // predictions trained in batches; null otherwise.
  const Word2VecColumnShards* columns = nullptr;
  float* input = nullptr;   // syn0 [V, dim]
  float* output = nullptr;  // syn1neg [V, dim] or syn1 [inner nodes, dim]
  const NegativeSampler* sampler = nullptr;
  const HuffmanTree* tree = nullptr;
  const SubwordRows* subwords = nullptr;  // null without subwords
  std::vector<float> keep;                // subsampling keep-probability per word
  double start_alpha = 0;
  double total_words = 0;  // epochs * the words' total count

  // The words of all processes, for the learning rate: exact at each synchronization, and
  // between two estimated as this process's words since times the number of processes (one
  // process: exactly its own words).
  std::int64_t parts = 1;
  double rate_scale = 1;         // data parallelism: parts (word2vec.hpp says why)
  std::int64_t global_base = 0;  // all processes' words at the last synchronization
  std::int64_t local_base = 0;   // this process's words then
  std::int64_t global_words(std::int64_t local) const {
    return global_base + (local - local_base) * parts;
  }

  std::atomic<std::int64_t> words_done{0};
  std::atomic<std::int64_t> loss_micros{0};  // running loss sum, fixed point 1e-6
  std::atomic<std::int64_t> predictions{0};
  std::mutex epoch_mutex;
  std::vector<double> epoch_loss;  // per epoch, for final_loss
  std::vector<std::int64_t> epoch_predictions;
  const training::HogwildRunner* runner = nullptr;

  // Words of one epoch (all threads): the unit of the position in a divergence error.
  std::int64_t words_per_epoch() const { return words->total_count(); }
};

class Worker {
  struct ColumnSlice;

 public:
  Worker(Shared& shared, std::size_t id)
      : s_(shared),
        id_(id),
        dim_(shared.dim),
        rng_{training::worker_seed(shared.options->seed, shared.first_worker + id)},
        reader_(shared.corpus, /*validate=*/false),
        input_(shared.input, shared.dim),
        grad_(shared.dim),
        summed_grad_(shared.dim),
        alpha_(static_cast<float>(shared.start_alpha * shared.rate_scale)),
        count_(shared.words_done) {
    const auto [begin, end] =
        training::worker_slice(shared.part_end - shared.part_begin, id, shared.runner->workers());
    begin_ = shared.part_begin + begin;
    end_ = shared.part_begin + end;
    sentence_.reserve(kMaxSentence);
    if (shared.columns != nullptr) {
      const auto slices =
          std::min<std::size_t>(static_cast<std::size_t>(shared.options->threads), dim_);
      for (std::size_t t = 0; t < slices; ++t) {
        ColumnSlice slice;
        slice.begin = dim_ * t / slices;
        slice.width = dim_ * (t + 1) / slices - slice.begin;
        slice.hidden.resize(slice.width);
        slice.grad.resize(slice.width);
        slice.summed.resize(slice.width);
        slices_.push_back(std::move(slice));
      }
    }
    if (shared.options->loss == Word2VecLoss::NegativeSampling) {
      loss_ = std::make_unique<training::NegativeSamplingLoss>(shared.output, dim_, *shared.sampler,
                                                               shared.options->negative);
    } else {
      loss_ = std::make_unique<training::HierarchicalSoftmaxLoss>(shared.output, dim_, *shared.tree,
                                                                  training::PositiveBranch::Zero);
    }
  }

  // All epochs, without pauses.
  void run() {
    for (std::int64_t epoch = 0; epoch < s_.options->epochs; ++epoch) {
      if (s_.runner->stopping()) return;
      begin_epoch(epoch);
      train_until(kSliceEnd);
      end_epoch();
    }
  }

  // Data parallelism trains an epoch in periods: begin_epoch, then train_until the end of each
  // period (the last one's end is kSliceEnd), then end_epoch. The periods only pause the
  // worker between two sentences: the sentences it reads and trains are the same as run()'s.
  void begin_epoch(std::int64_t epoch) {
    epoch_ = epoch;
    reader_.seek(begin_);
    position_ = begin_;
    more_ = true;
    epoch_loss_ = 0;
    epoch_predictions_ = 0;
  }
  // Trains sentences until the reader is at or past byte `stop` or the slice is exhausted.
  void train_until(std::uint64_t stop) {
    while (more_ && position_ < stop && !s_.runner->stopping()) {
      more_ = read_sentence(reader_, end_);
      train_sentence();
      position_ = reader_.offset();
      if (s_.columns != nullptr) {
        batch_.words += sentence_.size();
        if (static_cast<std::int64_t>(batch_.words) >= s_.columns->batch_words) train_batch();
      }
    }
    if (s_.columns != nullptr && !more_) train_batch();  // the slice's last batch
  }
  void end_epoch() {
    publish();
    std::lock_guard lock(s_.epoch_mutex);
    s_.epoch_loss[static_cast<std::size_t>(epoch_)] += epoch_loss_;
    s_.epoch_predictions[static_cast<std::size_t>(epoch_)] += epoch_predictions_;
  }
  // Where period `period` of `periods` ends in this worker's slice.
  std::uint64_t period_end(std::int64_t period, std::int64_t periods) const {
    if (period + 1 == periods) return kSliceEnd;
    return begin_ + (end_ - begin_) * static_cast<std::uint64_t>(period + 1) /
                        static_cast<std::uint64_t>(periods);
  }
  // Words counted but not yet published (read while the worker is paused).
  std::int64_t unpublished() const { return count_.unpublished(); }

  static constexpr std::uint64_t kSliceEnd = std::numeric_limits<std::uint64_t>::max();

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
      count_.add(1);
      if (count_.unpublished() >= kPublishEvery) publish();
      const float keep = s_.keep[static_cast<std::size_t>(id)];
      if (keep < 1.0f && keep < rng_.uniform_float()) continue;
      sentence_.push_back(id);
    }
    return true;
  }

  // Publishes the counters, and stops training with TrainingDivergedError when the loss since
  // the last call is not finite: checked here, every kPublishEvery words, and not per update,
  // so the check costs nothing measurable.
  void publish() {
    const std::int64_t done = count_.publish();
    if (!std::isfinite(interval_loss_)) diverged(done);
    s_.loss_micros.fetch_add(std::llround(interval_loss_ * 1e6), std::memory_order_relaxed);
    s_.predictions.fetch_add(interval_predictions_, std::memory_order_relaxed);
    epoch_loss_ += interval_loss_;
    epoch_predictions_ += interval_predictions_;
    interval_loss_ = 0;
    interval_predictions_ = 0;
    const double progress = static_cast<double>(s_.global_words(done)) / (s_.total_words + 1);
    alpha_ = static_cast<float>(s_.options->alpha_at(progress) * s_.rate_scale);
  }

  // Out of line and cold: built inline, the error cost the inlined hot loop 1.5% more
  // instructions (callgrind, 100k words, dim 100).
  [[noreturn, gnu::cold, gnu::noinline]] void diverged(std::int64_t done) const {
    // The position: words of this epoch done by all threads (exact with one thread).
    const std::int64_t in_epoch = std::clamp<std::int64_t>(
        s_.global_words(done) - epoch_ * s_.words_per_epoch(), 0, s_.words_per_epoch());
    throw TrainingDivergedError(epoch_ + 1, "word", in_epoch, non_finite_loss(interval_loss_),
                                kRateOption);
  }

  void train_sentence() {
    const auto n = static_cast<std::ptrdiff_t>(sentence_.size());
    const auto window = static_cast<std::ptrdiff_t>(s_.options->window);
    const bool cbow = s_.options->architecture == Word2VecArchitecture::Cbow;
    const SubwordRows* subwords = s_.subwords;
    for (std::ptrdiff_t pos = 0; pos < n; ++pos) {
      // The dynamic window: a random shrink b in [0, window) weights near words more.
      const auto b = static_cast<std::ptrdiff_t>(rng_.next() % static_cast<std::uint64_t>(window));
      const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, pos - window + b);
      const std::ptrdiff_t hi = std::min<std::ptrdiff_t>(n - 1, pos + window - b);
      const std::int32_t centre = sentence_[static_cast<std::size_t>(pos)];
      if (cbow) {
        // CBOW: the mean of the context words' input vectors (with subwords: of all their rows)
        // predicts the centre.
        context_.clear();
        for (std::ptrdiff_t c = lo; c <= hi; ++c) {
          if (c == pos) continue;
          const std::int32_t word = sentence_[static_cast<std::size_t>(c)];
          if (subwords) {
            const auto rows = subwords->of(word);
            context_.insert(context_.end(), rows.begin(), rows.end());
          } else {
            context_.push_back(word);
          }
        }
        if (context_.empty()) continue;
        if (s_.columns != nullptr) {
          queue_group(context_);
          queue_prediction(centre);
          end_batch_if_a_row_is_hot();
          continue;
        }
        predict(input_.mean(context_), centre);
        input_.update(grad_.data());
      } else if (subwords) {
        // Skip-gram with subwords, as fastText: the centre's bag predicts each context word; the
        // bag moves once, by the sum of those predictions' gradients (word2vec.hpp says why).
        if (hi == lo) continue;  // no context word
        if (s_.columns != nullptr) {
          queue_group(subwords->of(centre));
          for (std::ptrdiff_t c = lo; c <= hi; ++c) {
            if (c != pos) queue_prediction(sentence_[static_cast<std::size_t>(c)]);
          }
          end_batch_if_a_row_is_hot();
          continue;
        }
        const float* h = input_.mean(subwords->of(centre));
        std::fill(summed_grad_.begin(), summed_grad_.end(), 0.0f);
        for (std::ptrdiff_t c = lo; c <= hi; ++c) {
          if (c == pos) continue;
          predict(h, sentence_[static_cast<std::size_t>(c)]);
          training::axpy(1.0f, grad_.data(), summed_grad_.data(), dim_);
        }
        input_.update(summed_grad_.data());
      } else {
        // Skip-gram, as word2vec.c: each context word's input vector predicts the centre.
        for (std::ptrdiff_t c = lo; c <= hi; ++c) {
          if (c == pos) continue;
          const std::int64_t context = sentence_[static_cast<std::size_t>(c)];
          if (s_.columns != nullptr) {
            queue_group({&context, 1});
            queue_prediction(centre);
            end_batch_if_a_row_is_hot();
            continue;
          }
          predict(input_.mean({&context, 1}), centre);
          input_.update(grad_.data());
        }
      }
    }
  }

  // Column-sharded training queues the predictions in groups: a group is the mean of some input
  // rows (queue_group), the predictions made from it (queue_prediction: a target, with its
  // (output row, label) pairs, drawn now: the same draws as predict's), and one update of those
  // rows by the sum of their gradients (one prediction a group but for skip-gram with subwords,
  // whose centre's bag predicts each context word).
  void queue_group(std::span<const std::int64_t> inputs) {
    for (const std::int64_t row : inputs) touch(batch_.input_touches, row);
    batch_.inputs.insert(batch_.inputs.end(), inputs.begin(), inputs.end());
    batch_.input_end.push_back(batch_.inputs.size());
    batch_.prediction_end.push_back(batch_.output_end.size());
  }
  void queue_prediction(std::int32_t target) {
    auto add = [this](std::int64_t row, float label) {
      touch(batch_.output_touches, row);
      batch_.outputs.push_back(row);
      batch_.labels.push_back(label);
    };
    if (s_.options->loss == Word2VecLoss::NegativeSampling) {
      training::for_each_sampled_target(target, *s_.sampler, s_.options->negative, rng_, add);
    } else {
      training::for_each_path_target(target, *s_.tree, training::PositiveBranch::Zero, add);
    }
    batch_.output_end.push_back(batch_.outputs.size());
    ++batch_.prediction_end.back();
  }

  // Trains the batch as soon as one of its rows has been used kMaxRowTouches times, within a
  // sentence if need be (a sentence of one word repeated would otherwise use it thousands of
  // times on one stale score).
  void end_batch_if_a_row_is_hot() {
    if (batch_.most_touches >= kMaxRowTouches) train_batch();
  }

  // Counts a row's use in the batch (sized on first use: the tables' rows).
  void touch(std::vector<std::uint32_t>& touches, std::int64_t row) {
    const auto r = static_cast<std::size_t>(row);
    if (r >= touches.size()) touches.resize(std::max(r + 1, touches.size() * 2));
    batch_.most_touches = std::max(batch_.most_touches, ++touches[r]);
  }

  // Trains the queued groups (Word2VecColumnShards): every pair's score on this process's columns
  // from the rows as they are now, the scores summed over the processes, then each group's
  // updates in order, with its pairs' coefficients from those scores. The process's threads
  // split its columns (ColumnSlice): each scores every pair on its slice, their partial scores
  // are added in slice order, and each applies every update to its slice, so the result
  // depends on the thread count but not on which thread ran what.
  void train_batch() {
    const auto slices = static_cast<int>(slices_.size());
    if (slices == 1) {
      score_slice(slices_[0], batch_.scores);
    } else {
      // The pool may run fewer tasks than asked (one, with one thread): task t of n takes slices
      // t, t + n, ...
      embedkit::parallel_tasks(slices, [this, slices](int t, int n) {
        for (int i = t; i < slices; i += n) {
          ColumnSlice& slice = slices_[static_cast<std::size_t>(i)];
          score_slice(slice, slice.scores);
        }
      });
      batch_.scores = slices_[0].scores;
      for (std::size_t t = 1; t < slices_.size(); ++t) {
        for (std::size_t i = 0; i < batch_.scores.size(); ++i) {
          batch_.scores[i] += slices_[t].scores[i];
        }
      }
    }
    if (s_.columns->reduce_dots) s_.columns->reduce_dots(batch_.scores);
    if (slices == 1) {
      update_slice(slices_[0], true);
    } else {
      embedkit::parallel_tasks(slices, [this, slices](int t, int n) {
        for (int i = t; i < slices; i += n) {
          update_slice(slices_[static_cast<std::size_t>(i)], i == 0);
        }
      });
    }
    batch_.clear();
  }

  // The mean of group g's input rows (inputs[first, last)) on a slice's columns: the row itself
  // for one row, as MeanInputBag gives it; for several, the same arithmetic column by column.
  const float* slice_hidden(ColumnSlice& slice, std::size_t first, std::size_t last) const {
    if (last - first == 1) return input_row(batch_.inputs[first]) + slice.begin;
    std::fill(slice.hidden.begin(), slice.hidden.end(), 0.0f);
    for (std::size_t i = first; i < last; ++i) {
      training::axpy(1.0f, input_row(batch_.inputs[i]) + slice.begin, slice.hidden.data(),
                     slice.width);
    }
    const float inv = 1.0f / static_cast<float>(last - first);
    for (float& h : slice.hidden) h *= inv;
    return slice.hidden.data();
  }

  void score_slice(ColumnSlice& slice, std::vector<float>& scores) const {
    scores.resize(batch_.outputs.size());
    std::size_t in = 0, out = 0;
    for (std::size_t g = 0; g < batch_.input_end.size(); ++g) {
      const float* h = slice_hidden(slice, in, batch_.input_end[g]);
      const std::size_t end = batch_.output_end[batch_.prediction_end[g] - 1];
      for (; out < end; ++out) {
        scores[out] = training::dot(h, output_row(batch_.outputs[out]) + slice.begin, slice.width);
      }
      in = batch_.input_end[g];
    }
  }

  // Every group's updates on the slice's columns; `counts` on one slice only: the loss and the
  // predictions (the same on every slice).
  void update_slice(ColumnSlice& slice, bool counts) {
    const std::size_t width = slice.width;
    std::size_t in = 0, out = 0, prediction = 0;
    double loss_sum = 0;
    std::int64_t predictions = 0;
    for (std::size_t g = 0; g < batch_.input_end.size(); ++g) {
      const float* h = slice_hidden(slice, in, batch_.input_end[g]);
      const bool one = batch_.prediction_end[g] - prediction == 1;
      if (!one) std::fill(slice.summed.begin(), slice.summed.end(), 0.0f);
      for (; prediction < batch_.prediction_end[g]; ++prediction) {
        std::fill(slice.grad.begin(), slice.grad.end(), 0.0f);
        for (; out < batch_.output_end[prediction]; ++out) {
          double loss;
          const float coefficient =
              training::logistic_coefficient(batch_.scores[out], batch_.labels[out], loss) * alpha_;
          training::logistic_step(h, output_row(batch_.outputs[out]) + slice.begin, coefficient,
                                  slice.grad.data(), width);
          loss_sum += loss;
        }
        ++predictions;
        if (!one) training::axpy(1.0f, slice.grad.data(), slice.summed.data(), width);
      }
      // Each input row moves by the whole gradient (MeanInputBag::update).
      const float* grad = one ? slice.grad.data() : slice.summed.data();
      for (std::size_t i = in; i < batch_.input_end[g]; ++i) {
        training::axpy(-1.0f, grad, input_row(batch_.inputs[i]) + slice.begin, width);
      }
      in = batch_.input_end[g];
    }
    if (counts) {
      interval_loss_ += loss_sum;
      interval_predictions_ += predictions;
    }
  }

  float* input_row(std::int64_t row) const {
    return s_.input + static_cast<std::size_t>(row) * dim_;
  }
  float* output_row(std::int64_t row) const {
    return s_.output + static_cast<std::size_t>(row) * dim_;
  }

  // One prediction of `target` from the hidden vector h: updates the output rows and leaves the
  // gradient for the input rows in grad_.
  void predict(const float* h, std::int32_t target) {
    interval_loss_ += loss_->update(h, target, alpha_, grad_.data(), rng_);
    ++interval_predictions_;
  }

  Shared& s_;
  std::size_t id_;
  std::size_t dim_;
  embedkit::detail::SplitMix64 rng_;  // one per thread
  CorpusReader reader_;
  std::uint64_t begin_ = 0, end_ = 0;  // this worker's byte slice
  std::uint64_t position_ = 0;         // the reader's offset after the last sentence
  bool more_ = true;                   // false once the slice is exhausted this epoch
  std::unique_ptr<training::OutputLoss> loss_;
  std::vector<std::int32_t> sentence_;
  training::MeanInputBag input_;
  std::vector<std::int64_t> context_;  // CBOW's context words
  std::vector<float> grad_;            // the output loss's gradient for the input rows
  std::vector<float> summed_grad_;     // skip-gram with subwords: grad_ summed over a window
  // Column-sharded training: this process's columns split among its threads, [begin, begin +
  // width) each, with each slice's buffers.
  struct ColumnSlice {  // declared above
    std::size_t begin = 0;
    std::size_t width = 0;
    std::vector<float> hidden, grad, summed;  // width each
    std::vector<float> scores;                // the slice's partial scores (more than one slice)
  };
  std::vector<ColumnSlice> slices_;
  // Column-sharded training's queued groups: group g's input rows end at input_end[g] in
  // `inputs` and its predictions at prediction_end[g]; prediction k's (output row, label) pairs
  // end at output_end[k] in outputs and labels.
  struct Batch {
    std::size_t words = 0;  // kept words of the sentences finished since the batch began
    // How many times each input and output row is used in the batch, and the most: what
    // stale scores cost grows with it (kMaxRowTouches).
    std::vector<std::uint32_t> input_touches, output_touches;
    std::uint32_t most_touches = 0;
    std::vector<std::int64_t> inputs;
    std::vector<std::size_t> input_end;
    std::vector<std::size_t> prediction_end;
    std::vector<std::int64_t> outputs;
    std::vector<float> labels;
    std::vector<std::size_t> output_end;
    std::vector<float> scores;  // one per pair
    void clear() {
      words = 0;
      for (const std::int64_t row : inputs) input_touches[static_cast<std::size_t>(row)] = 0;
      for (const std::int64_t row : outputs) output_touches[static_cast<std::size_t>(row)] = 0;
      most_touches = 0;
      inputs.clear();
      input_end.clear();
      prediction_end.clear();
      outputs.clear();
      labels.clear();
      output_end.clear();
    }
  } batch_;
  float alpha_;
  std::int64_t epoch_ = 0;      // 0-based
  training::TokenCount count_;  // corpus words, before subsampling
  double interval_loss_ = 0;
  std::int64_t interval_predictions_ = 0;
  double epoch_loss_ = 0;
  std::int64_t epoch_predictions_ = 0;
};

// Data parallelism (Word2VecDataParallel): every epoch in periods, the workers paused (their
// threads joined) between two, when this process synchronizes with the others.
void train_in_periods(Shared& s, training::HogwildRunner& runner,
                      const Word2VecDataParallel& parallel, const std::function<void()>& report,
                      std::size_t input_rows, std::size_t output_rows) {
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t w = 0; w < runner.workers(); ++w)
    workers.push_back(std::make_unique<Worker>(s, w));
  const std::int64_t periods = parallel.periods_per_epoch;
  const std::span<float> input(s.input, input_rows * s.dim);
  const std::span<float> output(s.output, output_rows * s.dim);
  using Clock = std::chrono::steady_clock;
  auto last_report = Clock::now();
  for (std::int64_t epoch = 0; epoch < s.options->epochs; ++epoch) {
    const auto e = static_cast<std::size_t>(epoch);
    for (std::int64_t period = 0; period < periods; ++period) {
      runner.run(
          [&](std::size_t w) {
            Worker& worker = *workers[w];
            if (period == 0) worker.begin_epoch(epoch);
            worker.train_until(worker.period_end(period, periods));
            if (period + 1 == periods) worker.end_epoch();
          },
          report, s.options->progress_interval);
      std::int64_t local = s.words_done.load();
      for (const auto& worker : workers) local += worker->unpublished();
      std::array<double, 3> sums{static_cast<double>(local), s.epoch_loss[e],
                                 static_cast<double>(s.epoch_predictions[e])};
      parallel.synchronize(input, output, sums);
      s.global_base = static_cast<std::int64_t>(sums[0]);
      s.local_base = local;
      if (period + 1 == periods) {
        s.epoch_loss[e] = sums[1];
        s.epoch_predictions[e] = static_cast<std::int64_t>(sums[2]);
      }
      // A period shorter than the progress interval never reports from inside runner.run.
      if (report && std::chrono::duration<double>(Clock::now() - last_report).count() >=
                        s.options->progress_interval) {
        last_report = Clock::now();
        report();
      }
    }
  }
}

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
  // fastText's rules for character n-grams: maxn 0 turns them off (minn then means nothing).
  if (minn < 0) fail("minn must be >= 0, got " + std::to_string(minn));
  if (maxn < 0) fail("maxn must be >= 0 (0: no subwords), got " + std::to_string(maxn));
  if (bucket < 0) fail("bucket must be >= 0, got " + std::to_string(bucket));
  if (maxn > 0) {
    if (minn < 1) fail("minn must be >= 1 with subwords (maxn > 0), got " + std::to_string(minn));
    if (maxn < minn) {
      fail("maxn must be >= minn, got minn " + std::to_string(minn) + " and maxn " +
           std::to_string(maxn));
    }
    if (bucket < 1) {
      fail(
          "bucket must be >= 1 with subwords (maxn > 0): the n-grams need rows; maxn 0 turns "
          "them off");
    }
    // fastText keeps the bucket count as an int32 and its rows after the words'.
    if (bucket > std::numeric_limits<std::int32_t>::max()) {
      fail("bucket must be <= 2147483647, got " + std::to_string(bucket));
    }
  }
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
                              const std::function<void(const Word2VecProgress&)>& on_progress,
                              const Word2VecDataParallel* parallel,
                              const Word2VecColumnShards* columns) {
  options.validate();
  if (parallel) {
    if (parallel->parts < 1 || parallel->part < 0 || parallel->part >= parallel->parts) {
      throw ValueError("word2vec: data-parallel part " + std::to_string(parallel->part) + " of " +
                       std::to_string(parallel->parts) + " does not exist");
    }
    if (parallel->periods_per_epoch < 1) {
      throw ValueError("word2vec: periods_per_epoch must be >= 1, got " +
                       std::to_string(parallel->periods_per_epoch));
    }
    if (!parallel->synchronize) throw ValueError("word2vec: data parallelism needs synchronize");
  }
  if (columns) {
    if (parallel) throw ValueError("word2vec: data parallelism or column shards, not both");
    if (columns->parts < 1 || columns->part < 0 || columns->part >= columns->parts) {
      throw ValueError("word2vec: column shard " + std::to_string(columns->part) + " of " +
                       std::to_string(columns->parts) + " does not exist");
    }
    if (columns->parts > options.dim) {
      throw ValueError("word2vec: " + std::to_string(columns->parts) + " column shards of dim " +
                       std::to_string(options.dim) + ": a shard needs at least one column");
    }
    if (columns->batch_words < 1) {
      throw ValueError("word2vec: batch_words must be >= 1, got " +
                       std::to_string(columns->batch_words));
    }
  }
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
  const auto full_dim = static_cast<std::size_t>(options.dim);
  // This process's columns [first_column, first_column + dim): all of them but with columns.
  std::size_t first_column = 0;
  std::size_t dim = full_dim;
  if (columns) {
    const auto parts = static_cast<std::size_t>(columns->parts);
    const auto part = static_cast<std::size_t>(columns->part);
    first_column = full_dim * part / parts;
    dim = full_dim * (part + 1) / parts - first_column;
  }

  Shared s;
  s.options = &options;
  s.words = &words;
  s.corpus = corpus;
  s.part_end = result.corpus.bytes;
  if (parallel) {
    const auto [begin, end] =
        training::worker_slice(result.corpus.bytes, static_cast<std::size_t>(parallel->part),
                               static_cast<std::size_t>(parallel->parts));
    s.part_begin = begin;
    s.part_end = end;
    s.first_worker = static_cast<std::size_t>(parallel->part * options.threads);
    s.parts = parallel->parts;
    s.rate_scale = static_cast<double>(parallel->parts);
  }
  s.dim = dim;
  s.columns = columns;
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
  // With subwords the n-gram buckets' rows follow the words' and start the same way.
  std::unique_ptr<SubwordRows> subwords;
  std::size_t input_rows = v;
  if (options.subwords()) {
    subwords = std::make_unique<SubwordRows>(words, options);
    s.subwords = subwords.get();
    input_rows += static_cast<std::size_t>(options.bucket);
  }
  Tensor input =
      Tensor::empty({static_cast<std::int64_t>(input_rows), static_cast<std::int64_t>(dim)});
  s.input = input.data<float>();
  {
    // One stream of draws over the whole [rows, full_dim] table, whichever columns are kept.
    embedkit::detail::SplitMix64 init{options.seed};
    for (std::size_t i = 0; i < input_rows; ++i) {
      for (std::size_t j = 0; j < full_dim; ++j) {
        const float value = (2.0f * init.uniform_float() - 1.0f) / static_cast<float>(full_dim);
        if (j >= first_column && j - first_column < dim) {
          s.input[i * dim + j - first_column] = value;
        }
      }
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
  result.output =
      Tensor::zeros({static_cast<std::int64_t>(output_rows), static_cast<std::int64_t>(dim)});
  s.output = result.output.data<float>();

  const auto start = Clock::now();
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  std::int64_t last_loss = 0, last_predictions = 0;
  auto report = [&] {
    Word2VecProgress p;
    p.elapsed_seconds = seconds_since(start);
    p.words = s.global_words(s.words_done.load());
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
    p.alpha = options.alpha_at(p.fraction) * s.rate_scale;
    p.eta_seconds = p.fraction > 0 ? p.elapsed_seconds * (1.0 - p.fraction) / p.fraction : 0;
    on_progress(p);
  };
  // Column shards walk the corpus once per process: their threads split the columns instead.
  training::HogwildRunner runner(columns ? 1 : static_cast<std::size_t>(options.threads));
  s.runner = &runner;
  const std::function<void()> reporting =
      on_progress ? std::function<void()>(report) : std::function<void()>();
  if (!parallel) {
    runner.run([&s](std::size_t worker) { Worker(s, worker).run(); }, reporting,
               options.progress_interval);
  } else {
    train_in_periods(s, runner, *parallel, reporting, input_rows, output_rows);
  }
  if (subwords) {
    // Each word's vector as fastText's getWordVector computes it: its rows summed in order, then
    // times the float nearest 1 / rows.
    result.vectors = Tensor::zeros({static_cast<std::int64_t>(v), static_cast<std::int64_t>(dim)});
    float* out = result.vectors.data<float>();
    for (std::size_t i = 0; i < v; ++i) {
      const auto rows = subwords->of(static_cast<std::int64_t>(i));
      float* vec = out + i * dim;
      for (const std::int64_t r : rows) {
        training::axpy(1.0f, s.input + static_cast<std::size_t>(r) * dim, vec, dim);
      }
      const auto scale = static_cast<float>(1.0 / static_cast<double>(rows.size()));
      for (std::size_t j = 0; j < dim; ++j) vec[j] *= scale;
    }
    result.input = std::move(input);
  } else {
    result.vectors = std::move(input);
  }
  // The last updates after the last loss check can still overflow: one pass over the vectors
  // (cheap next to training, which touches every row many times) makes sure none is returned.
  if (first_non_finite(result.vectors) >= 0 ||
      (result.input.defined() && first_non_finite(result.input) >= 0)) {
    throw TrainingDivergedError(options.epochs, "word", s.words_per_epoch(),
                                "a word vector is not finite", kRateOption);
  }
  if (on_progress) report();

  result.seconds = seconds_since(start);
  result.words_trained = s.global_words(s.words_done.load());
  result.words_per_second =
      result.seconds > 0 ? static_cast<double>(result.words_trained) / result.seconds : 0;
  const std::size_t last = s.epoch_loss.size() - 1;
  result.final_loss = s.epoch_predictions[last] > 0
                          ? s.epoch_loss[last] / static_cast<double>(s.epoch_predictions[last])
                          : 0;
  return result;
}

}  // namespace embedkit::models
