// The index and replacement policy of the device cache of a host-resident table: plain C++,
// no CUDA, so it is tested on any machine. Given a batch of ids it decides, per position,
// which cache slot serves it, which rows must be copied into which slots first (misses), which
// rows are evicted, and which positions bypass the cache (read straight from host memory).
//
// Organisation: `capacity` slots in sets of `ways` (set-associative; a row's set is a hash of
// its id), least-recently-used replacement within a set. Rows used by the last
// `protected_batches` plans (this one included) are never evicted: with 2, the next batch can be
// planned and its rows copied (prefetched) while the current batch's lookup still reads its
// slots. When every way of a set is protected, a miss bypasses the cache.
#pragma once

#include <cstdint>
#include <vector>

namespace embedkit::cuda {

struct CachePlan {
  std::vector<std::int64_t> slot_of;     // per position: its slot, or -1 (read from the host)
  std::vector<std::int64_t> fill_rows;   // rows to copy into the cache before the lookup ...
  std::vector<std::int64_t> fill_slots;  // ... and their slots
  std::vector<std::int64_t> evicted_rows;
  std::int64_t hits = 0;      // positions served by a slot without a copy of their own
  std::int64_t misses = 0;    // positions that cost a transfer (a fill or a bypass)
  std::int64_t bypassed = 0;  // positions read from host memory (no slot could be freed)
};

struct CacheStats {
  std::int64_t lookups = 0;
  std::int64_t hits = 0;
  std::int64_t misses = 0;
  std::int64_t fills = 0;
  std::int64_t bypassed = 0;
  std::int64_t evictions = 0;
  double hit_rate() const {
    return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
  }
};

class RowCache {
 public:
  // ValueError unless capacity >= 0, ways >= 1 and protected_batches >= 1. The number of sets
  // is capacity / ways rounded up (the last set may be short: its missing ways never exist).
  RowCache(std::int64_t capacity, int ways = 8, int protected_batches = 2);

  // Plans a batch of ids (each >= 0; the caller validates them against the table).
  CachePlan plan(const std::int64_t* ids, std::int64_t n);
  CachePlan plan(const std::vector<std::int64_t>& ids) {
    return plan(ids.data(), static_cast<std::int64_t>(ids.size()));
  }

  // The slot holding `row`, or -1.
  std::int64_t find(std::int64_t row) const;
  // The row in `slot`, or -1 when empty.
  std::int64_t row_in(std::int64_t slot) const { return rows_[static_cast<std::size_t>(slot)]; }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t num_sets() const { return num_sets_; }
  int ways() const { return ways_; }
  std::int64_t set_of(std::int64_t row) const;
  const CacheStats& stats() const { return stats_; }
  void reset_stats() { stats_ = CacheStats(); }

 private:
  std::int64_t capacity_;
  int ways_;
  int protected_batches_;
  std::int64_t num_sets_;
  std::int64_t batch_ = 0;  // serial number of the current plan
  std::uint64_t clock_ = 0;
  std::vector<std::int64_t> rows_;        // per slot: resident row or -1
  std::vector<std::int64_t> last_batch_;  // per slot: last plan that used it
  std::vector<std::uint64_t> last_use_;   // per slot: LRU clock
  CacheStats stats_;
};

}  // namespace embedkit::cuda
