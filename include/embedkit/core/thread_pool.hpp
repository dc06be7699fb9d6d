// The threads embedkit's kernels run on: one small process-wide pool with static partitioning.
//
// Work is split into contiguous chunks decided only by the problem size and the thread count;
// each chunk runs once, on whichever pool thread (the caller included) claims it first, and no
// kernel lets the arithmetic of one output element depend on how the work was split or who ran
// it. So a result never depends on scheduling, and the kernels give bitwise the same results
// for every thread count. When a worker is slow to wake (a loaded machine), the caller runs the
// remaining chunks itself rather than wait.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace embedkit {

// Number of threads kernels may use (the caller's thread included). n >= 1, else ValueError.
// The default is std::thread::hardware_concurrency(). Changing it restarts the pool; call it
// while no kernel runs (as torch::set_num_threads).
void set_num_threads(int n);
int get_num_threads();

// A non-owning reference to a callable (no allocation, unlike std::function): valid only while
// the callable it was made from lives, which is the duration of a parallel_for call.
template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT(google-explicit-constructor): used like a function parameter
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Runs fn(chunk, num_chunks) once for each chunk = 0 .. num_chunks-1, on the pool's threads and
// the caller's, and returns when all have finished. num_chunks is clamped to
// [1, min(get_num_threads(), 65535)]; the value used is what fn receives. Runs everything on the
// caller when called from inside a chunk, or while another thread is using the pool. The first
// exception a chunk throws is rethrown here after all chunks finished.
void parallel_chunks(int num_chunks, FunctionRef<void(int, int)> fn);

// As parallel_chunks, but num_tasks may exceed the thread count: it is clamped to [1, 65535]
// only (to 1 with one thread), and the pool's threads and the caller claim the tasks one at a
// time. A thread that starts late (a worker woken from its sleep) then takes fewer tasks instead
// of the others waiting for it at the end. For work whose result does not depend on how it is
// split.
void parallel_tasks(int num_tasks, FunctionRef<void(int, int)> fn);

// Splits [0, n) into contiguous chunks of at least min_chunk items (one per thread at most)
// and runs fn(begin, end) on each. Chunk boundaries depend only on n, min_chunk and the thread
// count.
void parallel_for(std::int64_t n, std::int64_t min_chunk,
                  FunctionRef<void(std::int64_t, std::int64_t)> fn);

// The chunk boundaries parallel_for uses: chunk c of `chunks` over [0, n).
inline std::int64_t chunk_begin(std::int64_t n, int chunks, int c) {
  // n * c may overflow for huge n; split into quotient and remainder.
  const std::int64_t q = n / chunks;
  const std::int64_t r = n % chunks;
  return q * c + (c < r ? c : r);
}

}  // namespace embedkit
