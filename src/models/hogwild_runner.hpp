// The threads of a shallow model's training (word2vec.c's and fastText's scheme): each worker
// trains on its own slice of the data and updates the shared tables without locks ("hogwild"),
// while the calling thread reports progress (Python's callback must run on the thread that holds
// the interpreter). A worker that throws (a diverged loss) or a report that throws (a cancelled
// run: Python's KeyboardInterrupt) stops every worker at its next check of stopping(); all are
// joined, then the exception propagates: the report's when it threw, else the first worker's.
//
// What the runner leaves to the model: how a slice is read, the learning-rate schedule
// (word2vec.c's and fastText's differ), and what a progress report holds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <utility>

namespace embedkit::models::training {

class HogwildRunner {
 public:
  explicit HogwildRunner(std::size_t workers) : workers_(workers) {}

  // Runs work(w) for every worker w in [0, workers) and returns once all have finished. With a
  // report, every worker runs on its own thread and report() is called on the calling thread
  // about every interval_seconds while they train; without one, a single worker runs on the
  // calling thread. Throws as the header says.
  void run(const std::function<void(std::size_t worker)>& work, const std::function<void()>& report,
           double interval_seconds);

  // Polled by the workers: true once any worker or the report has thrown.
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }
  std::size_t workers() const { return workers_; }

 private:
  void fail(std::exception_ptr error, bool replace);

  std::size_t workers_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::exception_ptr error_;
};

// Worker w's share [begin, end) of `total` units (bytes, lines): contiguous, sizes differing by
// at most one.
inline std::pair<std::uint64_t, std::uint64_t> worker_slice(std::uint64_t total, std::size_t w,
                                                            std::size_t workers) {
  return {total * w / workers, total * (w + 1) / workers};
}

// Worker w's seed: distinct per worker, a function of the model's seed and w only, so that one
// worker (threads == 1) gives the same model on every run.
constexpr std::uint64_t worker_seed(std::uint64_t seed, std::size_t w) {
  return seed * 0x2545f4914f6cdd1dULL + w + 1;
}

}  // namespace embedkit::models::training
