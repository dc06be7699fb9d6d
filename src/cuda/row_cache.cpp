#include "embedkit/cuda/row_cache.hpp"

#include <algorithm>
#include <string>

#include "core/splitmix64.hpp"
#include "embedkit/core/error.hpp"

namespace embedkit::cuda {

RowCache::RowCache(std::int64_t capacity, int ways, int protected_batches)
    : capacity_(capacity), ways_(ways), protected_batches_(protected_batches) {
  if (capacity < 0 || ways < 1 || protected_batches < 1) {
    throw ValueError("RowCache: capacity must be >= 0, ways >= 1 and protected_batches >= 1, got " +
                     std::to_string(capacity) + ", " + std::to_string(ways) + ", " +
                     std::to_string(protected_batches));
  }
  num_sets_ = (capacity + ways - 1) / ways;
  rows_.assign(static_cast<std::size_t>(capacity), -1);
  last_batch_.assign(static_cast<std::size_t>(capacity), -1);
  last_use_.assign(static_cast<std::size_t>(capacity), 0);
}

std::int64_t RowCache::set_of(std::int64_t row) const {
  if (num_sets_ == 0) return -1;
  return static_cast<std::int64_t>(detail::splitmix64_finalize(static_cast<std::uint64_t>(row)) %
                                   static_cast<std::uint64_t>(num_sets_));
}

std::int64_t RowCache::find(std::int64_t row) const {
  if (num_sets_ == 0) return -1;
  const std::int64_t first = set_of(row) * ways_;
  const std::int64_t last = std::min(first + ways_, capacity_);
  for (std::int64_t s = first; s < last; ++s) {
    if (rows_[static_cast<std::size_t>(s)] == row) return s;
  }
  return -1;
}

CachePlan RowCache::plan(const std::int64_t* ids, std::int64_t n) {
  ++batch_;
  CachePlan p;
  p.slot_of.resize(static_cast<std::size_t>(n));
  // A slot is evictable when no plan among the last protected_batches_ (this one included)
  // used it.
  const std::int64_t oldest_protected = batch_ - protected_batches_ + 1;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t row = ids[i];
    if (row < 0) throw ValueError("RowCache::plan: id " + std::to_string(row) + " is negative");
    std::int64_t slot = find(row);
    if (slot >= 0) {
      ++p.hits;
    } else if (num_sets_ > 0) {
      // Victim: an empty way first, else the least recently used unprotected one.
      const std::int64_t first = set_of(row) * ways_;
      const std::int64_t last = std::min(first + ways_, capacity_);
      for (std::int64_t s = first; s < last; ++s) {
        const auto k = static_cast<std::size_t>(s);
        if (rows_[k] < 0) {
          slot = s;
          break;
        }
        if (last_batch_[k] < oldest_protected &&
            (slot < 0 || last_use_[k] < last_use_[static_cast<std::size_t>(slot)])) {
          slot = s;
        }
      }
      ++p.misses;
      if (slot >= 0) {
        const auto k = static_cast<std::size_t>(slot);
        if (rows_[k] >= 0) p.evicted_rows.push_back(rows_[k]);
        rows_[k] = row;
        p.fill_rows.push_back(row);
        p.fill_slots.push_back(slot);
      } else {
        ++p.bypassed;
      }
    } else {
      ++p.misses;
      ++p.bypassed;
    }
    if (slot >= 0) {
      const auto k = static_cast<std::size_t>(slot);
      last_batch_[k] = batch_;
      last_use_[k] = ++clock_;
    }
    p.slot_of[static_cast<std::size_t>(i)] = slot;
  }
  stats_.lookups += n;
  stats_.hits += p.hits;
  stats_.misses += p.misses;
  stats_.fills += static_cast<std::int64_t>(p.fill_rows.size());
  stats_.bypassed += p.bypassed;
  stats_.evictions += static_cast<std::int64_t>(p.evicted_rows.size());
  return p;
}

}  // namespace embedkit::cuda
