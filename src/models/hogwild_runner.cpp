#include "models/hogwild_runner.hpp"

#include <chrono>
#include <thread>
#include <vector>

namespace embedkit::models::training {

void HogwildRunner::fail(std::exception_ptr error, bool replace) {
  std::lock_guard lock(mutex_);
  if (!error_ || replace) error_ = std::move(error);
  stop_.store(true);
}

void HogwildRunner::run(const std::function<void(std::size_t)>& work,
                        const std::function<void()>& report, double interval_seconds) {
  if (workers_ == 1 && !report) {
    work(0);
    return;
  }
  std::atomic<std::size_t> running{workers_};
  std::vector<std::thread> pool;
  pool.reserve(workers_);
  for (std::size_t w = 0; w < workers_; ++w) {
    pool.emplace_back([this, &work, &running, w] {
      try {
        work(w);
      } catch (...) {
        fail(std::current_exception(), /*replace=*/false);
      }
      running.fetch_sub(1);
    });
  }
  // Nothing below may throw before the joins: a joinable std::thread destroyed by the unwinding
  // would call std::terminate.
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto seconds = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double last_report = 0;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (report && !stopping() && seconds() - last_report >= interval_seconds) {
      last_report = seconds();
      try {
        report();
      } catch (...) {
        // The callback stopped training: its exception, not the workers', propagates.
        fail(std::current_exception(), /*replace=*/true);
      }
    }
  }
  for (auto& thread : pool) thread.join();
  if (error_) std::rethrow_exception(error_);
}

}  // namespace embedkit::models::training
