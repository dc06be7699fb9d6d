// Sharding: every row has exactly one owner and one local slot, the shards are balanced, and
// table-wise placement is deterministic. (Local arithmetic: each rank checks it on its own.)
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/dist/sharding.hpp"

namespace embedkit::dist {
namespace {

TEST(Sharding, EveryRowHasOneOwnerAndOneLocalSlot) {
  for (ShardingKind kind :
       {ShardingKind::RowWise, ShardingKind::RowWiseCyclic, ShardingKind::TableWise}) {
    for (int ranks = 1; ranks <= 5; ++ranks) {
      for (std::int64_t rows = 0; rows <= 11; ++rows) {
        const Sharding s(kind, rows, ranks, ranks - 1);
        std::int64_t held = 0;
        for (int p = 0; p < ranks; ++p) {
          held += s.shard_rows(p);
          for (std::int64_t l = 0; l < s.shard_rows(p); ++l) {
            const std::int64_t r = s.global_row(p, l);
            ASSERT_GE(r, 0);
            ASSERT_LT(r, rows);
            EXPECT_EQ(s.owner(r), p);
            EXPECT_EQ(s.local_row(r), l);
          }
        }
        EXPECT_EQ(held, rows) << sharding_kind_name(kind) << " " << rows << "/" << ranks;
        if (kind != ShardingKind::TableWise) {
          const std::int64_t most = s.shard_rows(0);
          const std::int64_t least = s.shard_rows(ranks - 1);
          EXPECT_LE(most - least, 1);  // uneven by at most one row
        }
      }
    }
  }
}

TEST(Sharding, ContiguousRangesGiveTheRemainderToTheFirstRanks) {
  const Sharding s(ShardingKind::RowWise, 10, 4);
  EXPECT_EQ(s.shard_rows(0), 3);
  EXPECT_EQ(s.shard_rows(1), 3);
  EXPECT_EQ(s.shard_rows(2), 2);
  EXPECT_EQ(s.shard_rows(3), 2);
  EXPECT_EQ(s.owner(5), 1);
  EXPECT_EQ(s.owner(6), 2);
  EXPECT_EQ(s.global_row(3, 0), 8);
}

TEST(Sharding, CyclicPutsRowROnRankRModP) {
  const Sharding s(ShardingKind::RowWiseCyclic, 10, 3);
  EXPECT_EQ(s.owner(7), 1);
  EXPECT_EQ(s.local_row(7), 2);
  EXPECT_EQ(s.shard_rows(0), 4);
  EXPECT_EQ(s.shard_rows(2), 3);
}

TEST(Sharding, RefusesBadArguments) {
  EXPECT_THROW(Sharding(ShardingKind::RowWise, -1, 2), ValueError);
  EXPECT_THROW(Sharding(ShardingKind::RowWise, 4, 0), ValueError);
  EXPECT_THROW(Sharding(ShardingKind::TableWise, 4, 2, 2), ValueError);
  EXPECT_THROW(parse_sharding_kind("columns"), ValueError);
  EXPECT_EQ(parse_sharding_kind("row_wise_cyclic"), ShardingKind::RowWiseCyclic);
}

TEST(PlaceTables, LargestFirstOntoTheLeastLoadedRank) {
  // 100 -> 0, 80 -> 1, 60 -> 2, 30 -> 2 (60 + 30 < 80 + 30), 20 -> 1 (80 + 20 = 100 > 90: no,
  // rank 2 holds 90, rank 1 80: onto rank 1).
  const std::vector<int> owner = place_tables({30, 100, 20, 80, 60}, 3);
  EXPECT_EQ(owner, (std::vector<int>{2, 0, 1, 1, 2}));
  EXPECT_EQ(place_tables({5, 5, 5}, 1), (std::vector<int>{0, 0, 0}));
  EXPECT_THROW(place_tables({1}, 0), ValueError);
  EXPECT_THROW(place_tables({-1}, 2), ValueError);
}

}  // namespace
}  // namespace embedkit::dist
