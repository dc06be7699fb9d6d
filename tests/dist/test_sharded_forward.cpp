// The sharded forward equals the one-process lookup, bit for bit, for every sharding, mode and
// dtype, with uneven shards and an empty batch on rank 1.
#include <gtest/gtest.h>

#include <string>

#include "dist/dist_fixtures.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"

namespace embedkit::dist {
namespace {

using testing::Batch;

constexpr std::int64_t kRows = 37;  // divisible by none of 2, 3, 4
constexpr std::int64_t kDim = 12;

std::vector<ShardedEmbeddingBagOptions> all_shardings(const Communicator& comm, std::int64_t rows,
                                                      std::int64_t dim) {
  return {ShardedEmbeddingBagOptions(rows, dim).sharding(ShardingKind::RowWise),
          ShardedEmbeddingBagOptions(rows, dim).sharding(ShardingKind::RowWiseCyclic),
          ShardedEmbeddingBagOptions(rows, dim)
              .sharding(ShardingKind::TableWise)
              .table_owner(comm.size() - 1)};
}

TEST(ShardedForward, BagsEqualOneProcessBitForBit) {
  const Communicator comm = Communicator::world();
  const Batch global = testing::global_batch(comm.size(), kRows, kDim, 11);
  const Batch mine = testing::slice(global, comm.rank(), kDim);
  for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
    for (std::optional<std::int64_t> padding :
         {std::optional<std::int64_t>(), std::optional<std::int64_t>(2)}) {
      for (ShardedEmbeddingBagOptions o : all_shardings(comm, kRows, kDim)) {
        SCOPED_TRACE(bag_mode_name(mode) + " " + sharding_kind_name(o.sharding()) +
                     (padding ? " padding" : ""));
        o.mode(mode).padding_idx(padding);
        ShardedEmbeddingBag table(comm, o, normal_rows(5));
        Tensor full = testing::full_table(kRows, kDim, normal_rows(5), padding.value_or(-1));
        testing::expect_shard_equals(table, full);
        const auto func = nn::EmbeddingBagFuncOptions().mode(mode).padding_idx(padding);
        testing::expect_bitwise_equal(
            table.forward(testing::ids_tensor(mine), testing::offsets_tensor(mine)),
            nn::functional::embedding_bag(testing::ids_tensor(mine), full,
                                          testing::offsets_tensor(mine), func));
        if (mode == BagMode::Sum) {
          testing::expect_bitwise_equal(
              table.forward(testing::ids_tensor(mine), testing::offsets_tensor(mine),
                            testing::weights_tensor(mine)),
              nn::functional::embedding_bag(testing::ids_tensor(mine), full,
                                            testing::offsets_tensor(mine), func,
                                            testing::weights_tensor(mine)));
        }
      }
    }
  }
}

TEST(ShardedForward, TwoDimensionalIdsAndTheLastOffset) {
  const Communicator comm = Communicator::world();
  ShardedEmbeddingBag table(comm, ShardedEmbeddingBagOptions(kRows, kDim).mode(BagMode::Sum),
                            normal_rows(6));
  Tensor full = testing::full_table(kRows, kDim, normal_rows(6), -1);
  // Rank r looks up r + 1 bags of 3 ids.
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3 * (comm.rank() + 1); ++i) ids.push_back((i * 7 + comm.rank()) % kRows);
  const Tensor ids2d = Tensor::from_vector(ids, Shape{comm.rank() + 1, 3});
  const auto func = nn::EmbeddingBagFuncOptions().mode(BagMode::Sum);
  testing::expect_bitwise_equal(table.forward(ids2d),
                                nn::functional::embedding_bag(ids2d, full, Tensor(), func));

  ShardedEmbeddingBag closed(
      comm, ShardedEmbeddingBagOptions(kRows, kDim).mode(BagMode::Mean).include_last_offset(true),
      normal_rows(6));
  const Tensor flat = Tensor::from_vector(ids);
  const Tensor offsets =
      Tensor::from_vector(std::vector<std::int64_t>{0, 2, static_cast<std::int64_t>(ids.size())});
  testing::expect_bitwise_equal(
      closed.forward(flat, offsets),
      nn::functional::embedding_bag(flat, full, offsets,
                                    nn::EmbeddingBagFuncOptions().include_last_offset(true)));
}

TEST(ShardedForward, SixteenBitTables) {
  const Communicator comm = Communicator::world();
  const Batch global = testing::global_batch(comm.size(), kRows, kDim, 12);
  const Batch mine = testing::slice(global, comm.rank(), kDim);
  for (DType dtype : {DType::BFloat16, DType::Float16}) {
    ShardedEmbeddingBag table(comm,
                              ShardedEmbeddingBagOptions(kRows, kDim)
                                  .mode(BagMode::Mean)
                                  .dtype(dtype)
                                  .sharding(ShardingKind::RowWiseCyclic),
                              normal_rows(7));
    Tensor full = testing::full_table(kRows, kDim, normal_rows(7), -1).to(dtype);
    testing::expect_shard_equals(table, full);
    testing::expect_bitwise_equal(
        table.forward(testing::ids_tensor(mine), testing::offsets_tensor(mine)),
        nn::functional::embedding_bag(testing::ids_tensor(mine), full,
                                      testing::offsets_tensor(mine)));
  }
}

TEST(ShardedLookup, EqualsEmbeddingForwardPaddingRowIncluded) {
  const Communicator comm = Communicator::world();
  const Batch global = testing::global_batch(comm.size(), kRows, kDim, 13);
  const Batch mine = testing::slice(global, comm.rank(), kDim);
  for (ShardedEmbeddingBagOptions o : all_shardings(comm, kRows, kDim)) {
    SCOPED_TRACE(sharding_kind_name(o.sharding()));
    ShardedEmbeddingBag table(comm, o.padding_idx(3), normal_rows(8));
    Tensor full = testing::full_table(kRows, kDim, normal_rows(8), 3);
    nn::Embedding reference = nn::Embedding::from_pretrained(full);
    const Tensor ids =
        Tensor::from_vector(mine.ids, Shape{static_cast<std::int64_t>(mine.ids.size())});
    testing::expect_bitwise_equal(table.lookup(ids), reference.forward(ids));
    EXPECT_GT(table.last_stats().bytes_sent, 0);
  }
}

}  // namespace
}  // namespace embedkit::dist
