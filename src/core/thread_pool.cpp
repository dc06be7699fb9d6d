#include "embedkit/core/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "embedkit/core/error.hpp"

namespace embedkit {

namespace {

// True on a pool worker, and on the caller while it runs its own chunk: a parallel call from
// there runs inline rather than waiting on workers that are busy with the outer call.
thread_local bool t_inside_pool = false;

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Spin iterations before sleeping on a futex. Short, because on a loaded machine a spinning
// waiter steals the core the awaited thread needs; long enough to skip the sleep when the other
// side answers within a few microseconds (the common case for back-to-back kernel calls).
constexpr int kSpinIterations = 2000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// A job is published as a 64-bit state: generation << 32 | next unclaimed chunk. Every thread,
// the caller included, claims chunks with a compare-and-swap on that state, so a chunk runs
// exactly once, on whichever thread gets to it first. The chunk boundaries are fixed by the
// caller; who runs a chunk never matters to a result. What it buys: when a worker is slow to
// wake (a loaded machine), the caller runs its chunks itself instead of waiting for it.
class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int w = 1; w < threads; ++w) workers_.emplace_back([this] { worker_loop(); });
  }

  ~Pool() {
    stop_.store(true, std::memory_order_relaxed);
    state_.fetch_add(std::uint64_t{1} << 32, std::memory_order_release);
    state_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  void run(int chunks, FunctionRef<void(int, int)> fn) {
    // Nested call (checked first: the caller of the outer job holds submit_), or another
    // thread's job in flight: run here, same chunks, same results.
    if (t_inside_pool) {
      run_inline(chunks, fn);
      return;
    }
    std::unique_lock<std::mutex> busy(submit_, std::try_to_lock);
    if (!busy.owns_lock()) {
      run_inline(chunks, fn);
      return;
    }
    job_.store(&fn, std::memory_order_relaxed);
    chunks_.store(chunks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    const std::uint64_t generation = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    state_.store(generation << 32, std::memory_order_release);
    state_.notify_all();

    t_inside_pool = true;
    while (claim_and_run()) {
    }
    t_inside_pool = false;

    for (int spin = 0;; ++spin) {
      const int done = done_.load(std::memory_order_acquire);
      if (done == chunks) break;
      if (spin < kSpinIterations) {
        cpu_relax();
      } else {
        done_.wait(done, std::memory_order_acquire);
      }
    }
    job_.store(nullptr, std::memory_order_relaxed);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr std::uint64_t kChunkMask = 0xffffffffu;

  static void run_inline(int chunks, FunctionRef<void(int, int)> fn) {
    for (int c = 0; c < chunks; ++c) fn(c, chunks);
  }

  // Claims the next chunk of the current job and runs it; false when none is left.
  bool claim_and_run() {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      // Read after the acquire of `s`: this job's values, or a later job's, in which case the
      // state has moved on and the claim below fails.
      const int chunks = chunks_.load(std::memory_order_relaxed);
      const auto c = static_cast<int>(s & kChunkMask);
      if (c >= chunks) return false;
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        // The job cannot finish (nor be replaced) before this chunk is done.
        run_chunk(*job_.load(std::memory_order_relaxed), c, chunks);
        if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) done_.notify_one();
        return true;
      }
    }
  }

  void run_chunk(FunctionRef<void(int, int)>& fn, int c, int chunks) {
    try {
      fn(c, chunks);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void worker_loop() {
    t_inside_pool = true;
    for (;;) {
      if (claim_and_run()) continue;
      // Nothing to claim: wait for the state to change (a new job, or stop).
      const std::uint64_t s = state_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_relaxed)) return;
      if (static_cast<int>(s & kChunkMask) < chunks_.load(std::memory_order_relaxed)) continue;
      int spin = 0;
      while (state_.load(std::memory_order_acquire) == s &&
             !stop_.load(std::memory_order_relaxed)) {
        if (spin++ < kSpinIterations) {
          cpu_relax();
        } else {
          state_.wait(s, std::memory_order_acquire);
        }
      }
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex submit_;  // held by the one thread whose job the pool runs
  std::atomic<std::uint64_t> state_{0};
  std::atomic<FunctionRef<void(int, int)>*> job_{nullptr};
  std::atomic<int> chunks_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

struct PoolHolder {
  std::mutex mutex;
  int threads = default_threads();
  std::unique_ptr<Pool> pool;  // created on first parallel use, with `threads`
};

PoolHolder& holder() {
  static PoolHolder h;
  return h;
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw ValueError("set_num_threads: need n >= 1, got " + std::to_string(n));
  PoolHolder& h = holder();
  const std::lock_guard<std::mutex> lock(h.mutex);
  if (n == h.threads) return;
  h.pool.reset();
  h.threads = n;
}

int get_num_threads() {
  PoolHolder& h = holder();
  const std::lock_guard<std::mutex> lock(h.mutex);
  return h.threads;
}

void parallel_chunks(int num_chunks, FunctionRef<void(int, int)> fn) {
  PoolHolder& h = holder();
  Pool* pool = nullptr;
  {
    const std::lock_guard<std::mutex> lock(h.mutex);
    num_chunks = std::clamp(num_chunks, 1, h.threads);
    if (num_chunks > 1) {
      if (!h.pool) h.pool = std::make_unique<Pool>(h.threads);
      pool = h.pool.get();
    }
  }
  if (pool == nullptr) {
    fn(0, 1);
    return;
  }
  pool->run(num_chunks, fn);
}

void parallel_for(std::int64_t n, std::int64_t min_chunk,
                  FunctionRef<void(std::int64_t, std::int64_t)> fn) {
  if (n <= 0) return;
  const std::int64_t by_size = n / std::max<std::int64_t>(min_chunk, 1);
  const int wanted = static_cast<int>(std::clamp<std::int64_t>(by_size, 1, get_num_threads()));
  if (wanted == 1) {
    fn(0, n);
    return;
  }
  parallel_chunks(wanted, [&](int c, int chunks) {
    const std::int64_t begin = chunk_begin(n, chunks, c);
    const std::int64_t end = chunk_begin(n, chunks, c + 1);
    if (begin < end) fn(begin, end);
  });
}

}  // namespace embedkit
