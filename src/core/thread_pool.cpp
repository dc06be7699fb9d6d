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
#ifdef EMBEDKIT_THREAD_POOL_HOOKS
#include "core/thread_pool_hooks.hpp"
#endif

namespace embedkit {

#ifdef EMBEDKIT_THREAD_POOL_HOOKS
namespace thread_pool_hooks {
std::atomic<void (*)()> after_state_load{nullptr};
std::atomic<void (*)(bool)> after_claim_decision{nullptr};
std::atomic<void (*)()> before_publish{nullptr};
}  // namespace thread_pool_hooks
#endif

namespace {

#ifdef EMBEDKIT_THREAD_POOL_HOOKS
void hook_after_state_load() {
  if (auto* hook = thread_pool_hooks::after_state_load.load()) hook();
}
void hook_after_claim_decision(bool claimed) {
  if (auto* hook = thread_pool_hooks::after_claim_decision.load()) hook(claimed);
}
void hook_before_publish() {
  if (auto* hook = thread_pool_hooks::before_publish.load()) hook();
}
#else
inline void hook_after_state_load() {}
inline void hook_after_claim_decision(bool) {}
inline void hook_before_publish() {}
#endif

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

// The most chunks one job has: the chunk count and the next chunk index are 16-bit fields of the
// pool's state word (Pool below).
constexpr int kMaxChunks = 0xffff;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The job state: one 64-bit word holding everything a claim needs.
//
//   bits 63..32  generation  (+1 for every job; a job is named by its generation)
//   bits 31..16  chunks      (the job's chunk count)
//   bits 15..0   next        (the next unclaimed chunk; next == chunks: all claimed)
//
// Every thread, the caller included, claims a chunk with one compare-and-swap of that word,
// (g, chunks, next) -> (g, chunks, next + 1), and then runs chunk `next` of job g. So a chunk runs
// exactly once, on whichever thread gets to it first; the chunk boundaries are fixed by the
// caller, so who runs a chunk never matters to a result. What it buys: when a worker is slow to
// wake (a loaded machine), the caller runs its chunks itself instead of waiting for it.
//
// Why it is safe (each claim decides from one atomic word, never from two reads):
//  1. A claim succeeds only if the word still equals the one the claimant read, generation
//     included. A job's word is replaced (new generation) only after that job completed, so a
//     thread that read job g's word - however long it then stalls - can claim only a chunk of
//     job g, and only while job g still has unclaimed chunks. (An older design read the chunk
//     count from a separate atomic: a stalled worker could pair job g's word with job g+1's
//     count and claim a chunk of g+1 before g+1 was published, which then ran it again;
//     tests/core/test_thread_pool_race.cpp replays that interleaving.) The one way a stale
//     word could match again is the 32-bit generation wrapping around: 2^32 complete jobs while
//     one thread stalls between two instructions.
//  2. Job g cannot complete while one of its claimed chunks has not finished: completion is
//     done_ reaching `chunks`, and each chunk adds 1 to done_ only after it ran. So between a
//     successful claim of job g and its done_ increment, job g is in flight and the submitter
//     does not touch job_, done_ or error_. That is why job_ and error_ are plain fields: every
//     access to them is ordered by happens-before (ThreadSanitizer checks that claim):
//       submitter writes job_, error_, done_ = 0  -> release store of the word (g, chunks, 0)
//       -> a claimant's compare-and-swap (acquire; the claims of other threads are
//          read-modify-writes, so they continue the release sequence) -> it reads job_, runs
//          the chunk, maybe writes error_ (under error_mutex_) -> done_.fetch_add (release)
//       -> the submitter reads done_ == chunks (acquire) -> reads error_, returns and unlocks
//          submit_; the next job is written only after that, by whichever thread locks
//          submit_ next (the mutex orders it after this one).
//  3. next + 1 never carries into the chunk count: a claim needs next < chunks <= kMaxChunks.
class Pool {
 public:
  explicit Pool(int threads) {
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int w = 1; w < threads; ++w) workers_.emplace_back([this] { worker_loop(); });
  }

  ~Pool() {
    // A new generation with no chunks: nothing to claim, and every waiting worker wakes up.
    stop_.store(true, std::memory_order_relaxed);
    const std::uint64_t generation = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    state_.store(generation << 32, std::memory_order_release);
    state_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // chunks in [2, kMaxChunks].
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
    // The previous job completed (this thread or the previous holder of submit_ saw its done_
    // reach its chunk count), so no thread can be inside one of its chunks: these plain writes
    // race with nothing (point 2 above).
    job_ = &fn;
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    const std::uint64_t generation = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    hook_before_publish();
    state_.store(generation << 32 | static_cast<std::uint64_t>(chunks) << 16,
                 std::memory_order_release);
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
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static int chunks_of(std::uint64_t state) { return static_cast<int>((state >> 16) & 0xffffu); }
  static int next_of(std::uint64_t state) { return static_cast<int>(state & 0xffffu); }

  static void run_inline(int chunks, FunctionRef<void(int, int)> fn) {
    for (int c = 0; c < chunks; ++c) fn(c, chunks);
  }

  // Claims the next chunk of the current job and runs it; false when none is left.
  bool claim_and_run() {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    hook_after_state_load();
    for (;;) {
      const int chunks = chunks_of(s);
      const int c = next_of(s);
      if (c >= chunks) {
        hook_after_claim_decision(false);
        return false;
      }
      // On failure `s` becomes the current word, and the loop decides again from it alone.
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        hook_after_claim_decision(true);
        run_chunk(c, chunks);
        if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) done_.notify_one();
        return true;
      }
    }
  }

  void run_chunk(int c, int chunks) {
    try {
      (*job_)(c, chunks);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void worker_loop() {
    t_inside_pool = true;
    for (;;) {
      if (claim_and_run()) continue;
      // Nothing to claim: wait for the word to change (a new job, or stop).
      const std::uint64_t s = state_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_relaxed)) return;
      if (next_of(s) < chunks_of(s)) continue;
      int spin = 0;
      while (state_.load(std::memory_order_acquire) == s) {
        if (spin++ < kSpinIterations) {
          cpu_relax();
        } else {
          state_.wait(s, std::memory_order_acquire);
        }
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex submit_;  // held by the one thread whose job the pool runs
  std::atomic<std::uint64_t> state_{0};
  FunctionRef<void(int, int)>* job_ = nullptr;  // the job of the current generation
  std::atomic<int> done_{0};                    // chunks of the current job that finished
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;  // the first exception a chunk of the current job threw
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

namespace {

// parallel_chunks and parallel_tasks: fn over `pieces` pieces, at most the thread count of them
// when up_to_threads (chunks), else at most kMaxChunks (tasks); one piece with one thread.
void run_pieces(int pieces, bool up_to_threads, FunctionRef<void(int, int)> fn) {
  PoolHolder& h = holder();
  Pool* pool = nullptr;
  {
    const std::lock_guard<std::mutex> lock(h.mutex);
    const int most = h.threads == 1  ? 1
                     : up_to_threads ? std::min(h.threads, kMaxChunks)
                                     : kMaxChunks;
    pieces = std::clamp(pieces, 1, most);
    if (pieces > 1) {
      if (!h.pool) h.pool = std::make_unique<Pool>(h.threads);
      pool = h.pool.get();
    }
  }
  if (pool == nullptr) {
    fn(0, 1);
    return;
  }
  pool->run(pieces, fn);
}

}  // namespace

void parallel_chunks(int num_chunks, FunctionRef<void(int, int)> fn) {
  run_pieces(num_chunks, true, fn);
}

void parallel_tasks(int num_tasks, FunctionRef<void(int, int)> fn) {
  run_pieces(num_tasks, false, fn);
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
