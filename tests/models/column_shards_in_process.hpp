// word2vec over column shards (models::Word2VecColumnShards) without MPI: the P processes are
// threads of the test, and each batch's partial scores meet in reduce(), where they are summed in
// part order, as dist::TableAveraging::add_up sums them in rank order; then every part's columns
// are put side by side. The models tests use it against one part, the dist tests against
// `dist::train_word2vec_by_columns` (which must give the same bits).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <mutex>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/models/word2vec.hpp"

namespace embedkit_models_test {

class InProcessScores {
 public:
  explicit InProcessScores(int parts) : parts_(parts), partial_(static_cast<std::size_t>(parts)) {}

  // Called by every part with its batch's partial scores; returns when all have, with `scores`
  // replaced by their sum (part 0's, plus part 1's, ...).
  void reduce(int part, std::span<float> scores) {
    std::unique_lock lock(mutex_);
    if (failed_) throw std::runtime_error("another part failed");
    partial_[static_cast<std::size_t>(part)].assign(scores.begin(), scores.end());
    const std::uint64_t round = round_;
    if (++arrived_ == parts_) {
      total_ = partial_[0];
      for (std::size_t r = 1; r < partial_.size(); ++r) {
        for (std::size_t i = 0; i < total_.size(); ++i) total_[i] += partial_[r][i];
      }
      arrived_ = 0;
      ++round_;
      changed_.notify_all();
    } else {
      changed_.wait(lock, [&] { return round_ != round || failed_; });
      if (round_ == round) throw std::runtime_error("another part failed");
    }
    // The next round's total is only made once this part has arrived there too.
    std::copy(total_.begin(), total_.end(), scores.begin());
  }

  // A part that failed: the others stop waiting for it (their reduce throws).
  void fail() {
    std::lock_guard lock(mutex_);
    failed_ = true;
    changed_.notify_all();
  }

 private:
  int parts_;
  std::vector<std::vector<float>> partial_;
  std::vector<float> total_;
  int arrived_ = 0;
  bool failed_ = false;
  std::uint64_t round_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
};

// Each part's result, trained in its own thread. A part's error (the first part's that failed)
// is rethrown here once every thread has stopped.
inline std::vector<embedkit::models::Word2VecResult> train_column_parts(
    const std::filesystem::path& corpus, const embedkit::models::Word2VecOptions& options,
    int parts, std::int64_t batch_words) {
  namespace M = embedkit::models;
  InProcessScores scores(parts);
  std::vector<M::Word2VecResult> results(static_cast<std::size_t>(parts));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(parts));
  std::vector<std::thread> threads;
  for (int p = 0; p < parts; ++p) {
    threads.emplace_back([&, p] {
      M::Word2VecColumnShards shards;
      shards.part = p;
      shards.parts = parts;
      shards.batch_words = batch_words;
      shards.reduce_dots = [&scores, p](std::span<float> s) { scores.reduce(p, s); };
      try {
        results[static_cast<std::size_t>(p)] =
            M::train_word2vec(corpus, options, {}, nullptr, &shards);
      } catch (...) {
        errors[static_cast<std::size_t>(p)] = std::current_exception();
        scores.fail();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return results;
}

// The parts' tables (their vectors, output or input: `table`) side by side: [rows, dim].
inline embedkit::Tensor side_by_side(const std::vector<embedkit::models::Word2VecResult>& parts,
                                     embedkit::Tensor embedkit::models::Word2VecResult::*table) {
  std::int64_t dim = 0;
  for (const auto& r : parts) dim += (r.*table).size(1);
  const std::int64_t rows = (parts[0].*table).size(0);
  embedkit::Tensor whole = embedkit::Tensor::zeros({rows, dim});
  float* to = whole.data<float>();
  std::int64_t first = 0;
  for (const auto& r : parts) {
    const embedkit::Tensor& t = r.*table;
    const std::int64_t width = t.size(1);
    const float* from = t.data<float>();
    for (std::int64_t i = 0; i < rows; ++i) {
      std::copy(from + i * width, from + (i + 1) * width, to + i * dim + first);
    }
    first += width;
  }
  return whole;
}

}  // namespace embedkit_models_test
