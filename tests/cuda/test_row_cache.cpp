// RowCache: the device cache's index and replacement decisions, tested on the host (no GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "embedkit/core/error.hpp"
#include "embedkit/cuda/row_cache.hpp"

namespace embedkit::cuda {
namespace {

// Every position is served by a slot that holds its row, or bypasses; the counts add up.
void expect_consistent(const RowCache& cache, const std::vector<std::int64_t>& ids,
                       const CachePlan& p) {
  ASSERT_EQ(p.slot_of.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (p.slot_of[i] >= 0) {
      EXPECT_EQ(cache.row_in(p.slot_of[i]), ids[i]) << "position " << i;
      EXPECT_EQ(p.slot_of[i] / cache.ways(), cache.set_of(ids[i])) << "row outside its set";
    }
  }
  EXPECT_EQ(p.hits + p.misses, static_cast<std::int64_t>(ids.size()));
  EXPECT_EQ(p.misses, static_cast<std::int64_t>(p.fill_rows.size()) + p.bypassed);
  EXPECT_EQ(p.fill_rows.size(), p.fill_slots.size());
  EXPECT_LE(p.evicted_rows.size(), p.fill_rows.size());
  // No row is resident twice.
  std::set<std::int64_t> resident;
  for (std::int64_t s = 0; s < cache.capacity(); ++s) {
    const std::int64_t r = cache.row_in(s);
    if (r >= 0) {
      EXPECT_TRUE(resident.insert(r).second) << "row " << r << " in two slots";
    }
  }
}

TEST(RowCache, RejectsBadConfiguration) {
  EXPECT_THROW(RowCache(-1, 4), ValueError);
  EXPECT_THROW(RowCache(8, 0), ValueError);
  EXPECT_THROW(RowCache(8, 4, 0), ValueError);
  RowCache c(8, 4);
  const std::vector<std::int64_t> bad = {1, -3};
  EXPECT_THROW(c.plan(bad), ValueError);
}

TEST(RowCache, FirstBatchMissesThenHits) {
  RowCache cache(64, 4);
  const std::vector<std::int64_t> ids = {5, 9, 5, 17, 9, 5};
  const CachePlan first = cache.plan(ids);
  expect_consistent(cache, ids, first);
  EXPECT_EQ(first.fill_rows.size(), 3u);  // one copy per distinct row
  EXPECT_EQ(first.misses, 3);
  EXPECT_EQ(first.hits, 3);  // repeats are served by the slot filled for their first use
  EXPECT_TRUE(first.evicted_rows.empty());
  EXPECT_EQ(first.slot_of[0], first.slot_of[2]);
  EXPECT_EQ(first.slot_of[0], first.slot_of[5]);

  const CachePlan second = cache.plan(ids);
  expect_consistent(cache, ids, second);
  EXPECT_EQ(second.hits, 6);
  EXPECT_TRUE(second.fill_rows.empty());
  EXPECT_EQ(second.slot_of, first.slot_of);
  EXPECT_EQ(cache.stats().lookups, 12);
  EXPECT_EQ(cache.stats().hits, 9);
  EXPECT_EQ(cache.stats().fills, 3);
  EXPECT_DOUBLE_EQ(cache.stats().hit_rate(), 0.75);
}

TEST(RowCache, LeastRecentlyUsedIsEvicted) {
  // One set of 2 ways; only the current batch protected.
  RowCache cache(2, 2, 1);
  cache.plan(std::vector<std::int64_t>{10});
  cache.plan(std::vector<std::int64_t>{20});
  cache.plan(std::vector<std::int64_t>{10});  // 10 is now more recent than 20
  const CachePlan p = cache.plan(std::vector<std::int64_t>{30});
  ASSERT_EQ(p.evicted_rows, std::vector<std::int64_t>{20});
  EXPECT_EQ(cache.find(20), -1);
  EXPECT_GE(cache.find(10), 0);
  EXPECT_GE(cache.find(30), 0);
  EXPECT_EQ(p.fill_slots[0], p.slot_of[0]);
}

TEST(RowCache, RowsOfTheBatchInFlightAreNotEvicted) {
  // One set of 2 ways; the previous batch is protected (it may still be reading its slots).
  RowCache cache(2, 2, 2);
  const CachePlan a = cache.plan(std::vector<std::int64_t>{1, 2});
  EXPECT_EQ(a.fill_rows.size(), 2u);
  const CachePlan b = cache.plan(std::vector<std::int64_t>{3, 3});
  EXPECT_EQ(b.slot_of, (std::vector<std::int64_t>{-1, -1}));  // no way may be taken: bypass
  EXPECT_EQ(b.bypassed, 2);
  EXPECT_TRUE(b.evicted_rows.empty());
  EXPECT_GE(cache.find(1), 0);
  EXPECT_GE(cache.find(2), 0);
  // Two batches later rows 1 and 2 are free to go; 1 is the least recently used.
  const CachePlan c = cache.plan(std::vector<std::int64_t>{4});
  EXPECT_EQ(c.evicted_rows, std::vector<std::int64_t>{1});
  EXPECT_GE(c.slot_of[0], 0);
}

TEST(RowCache, RowsUsedEarlierInTheSameBatchStay) {
  RowCache cache(2, 2, 1);
  const std::vector<std::int64_t> ids = {1, 2, 3, 1, 2};
  const CachePlan p = cache.plan(ids);
  expect_consistent(cache, ids, p);
  EXPECT_EQ(p.slot_of[2], -1);  // both ways hold rows this batch uses
  EXPECT_EQ(p.slot_of[3], p.slot_of[0]);
  EXPECT_EQ(p.slot_of[4], p.slot_of[1]);
}

TEST(RowCache, ZeroCapacityBypassesEverything) {
  RowCache cache(0, 4);
  const std::vector<std::int64_t> ids = {0, 1, 1};
  const CachePlan p = cache.plan(ids);
  EXPECT_EQ(p.slot_of, (std::vector<std::int64_t>{-1, -1, -1}));
  EXPECT_EQ(p.bypassed, 3);
  EXPECT_EQ(p.hits, 0);
  EXPECT_EQ(cache.find(1), -1);
}

TEST(RowCache, ShortLastSetHasOnlyItsWays) {
  RowCache cache(10, 4);  // sets of 4, 4 and 2 ways
  EXPECT_EQ(cache.num_sets(), 3);
  std::vector<std::int64_t> ids(200);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i);
  const CachePlan p = cache.plan(ids);
  for (std::int64_t s : p.fill_slots) {
    EXPECT_GE(s, 0);
    EXPECT_LT(s, 10);
  }
}

// Many batches of skewed ids: the invariants hold every time, rows of the previous batch keep
// their slots (prefetch safety), and a hot set that fits is all hits once warm.
TEST(RowCache, RandomBatchesKeepInvariants) {
  RowCache cache(256, 8, 2);
  std::mt19937 gen(7);
  std::uniform_int_distribution<std::int64_t> cold(0, 99999);
  std::uniform_int_distribution<std::int64_t> hot(0, 63);
  std::map<std::int64_t, std::int64_t> previous;  // row -> slot in the previous batch
  for (int batch = 0; batch < 200; ++batch) {
    std::vector<std::int64_t> ids(300);
    for (auto& id : ids) id = gen() % 4 == 0 ? cold(gen) : hot(gen);
    const CachePlan p = cache.plan(ids);
    expect_consistent(cache, ids, p);
    for (const auto& [row, slot] : previous) {
      EXPECT_EQ(cache.row_in(slot), row) << "batch " << batch << " evicted a row in flight";
    }
    previous.clear();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (p.slot_of[i] >= 0) previous[ids[i]] = p.slot_of[i];
    }
  }
  cache.reset_stats();
  std::vector<std::int64_t> warm(64);
  for (std::size_t i = 0; i < warm.size(); ++i) warm[i] = static_cast<std::int64_t>(i);
  cache.plan(warm);
  cache.plan(warm);  // the last random batch is no longer protected: its rows may go now
  cache.plan(warm);
  const CachePlan again = cache.plan(warm);
  EXPECT_EQ(again.hits, 64);
  EXPECT_GT(cache.stats().hit_rate(), 0.5);
}

}  // namespace
}  // namespace embedkit::cuda
