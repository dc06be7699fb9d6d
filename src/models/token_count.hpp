// All workers' progress through the data, counted in tokens (corpus words, line tokens) without
// contention: each worker counts its own and publishes them to the shared total every so often,
// so the learning rate each worker computes from it lags by at most one publishing interval.
#pragma once

#include <atomic>
#include <cstdint>

namespace embedkit::models::training {

class TokenCount {
 public:
  explicit TokenCount(std::atomic<std::int64_t>& total) : total_(total) {}

  void add(std::int64_t tokens) { unpublished_ += tokens; }
  std::int64_t unpublished() const { return unpublished_; }

  // Adds this worker's unpublished tokens to the total; returns the total after it.
  std::int64_t publish() {
    published_total_ = total_.fetch_add(unpublished_, std::memory_order_relaxed) + unpublished_;
    unpublished_ = 0;
    return published_total_;
  }
  // The total as of this worker's last publish, plus its tokens since.
  std::int64_t estimate() const { return published_total_ + unpublished_; }

 private:
  std::atomic<std::int64_t>& total_;
  std::int64_t unpublished_ = 0;
  std::int64_t published_total_ = 0;
};

}  // namespace embedkit::models::training
