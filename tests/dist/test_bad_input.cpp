// Bad input on one rank is an error on every rank, naming the rank, and no shard changes;
// ranks that disagree on the table are stopped at construction, on every rank.
#include <gtest/gtest.h>

#include <string>

#include "dist/dist_fixtures.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/sgd.hpp"

namespace embedkit::dist {
namespace {

constexpr std::int64_t kRows = 23;
constexpr std::int64_t kDim = 4;

// Runs fn, expects E on this rank, and returns its message.
template <class E, class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ShardedBadInput, OutOfRangeIdOnOneRankIsAnErrorOnEveryRankAndNothingChanges) {
  const Communicator comm = Communicator::world();
  const int culprit = comm.size() - 1;
  ShardedEmbeddingBag table(comm, ShardedEmbeddingBagOptions(kRows, kDim).mode(BagMode::Sum),
                            normal_rows(3));
  optim::SGD opt(optim::make_parameters(table.shard_module()), optim::SGDOptions(0.5));
  const Tensor before = table.shard().clone();
  std::vector<std::int64_t> ids = {0, 5, 7, 9, 2};
  if (comm.rank() == culprit) ids[3] = kRows + 4;  // position 3
  const Tensor offsets = Tensor::from_vector(std::vector<std::int64_t>{0, 2});
  const Tensor grad = Tensor::zeros({2, kDim});
  const std::string rank_and_position = "rank " + std::to_string(culprit) + ": ";
  for (const std::string what : {"forward", "step", "lookup", "lookup step"}) {
    SCOPED_TRACE(what);
    const std::string message = error_of<IndexError>([&] {
      if (what == "forward") table.forward(Tensor::from_vector(ids), offsets);
      if (what == "step") table.fused_backward_step(Tensor::from_vector(ids), offsets, grad, opt);
      if (what == "lookup") table.lookup(Tensor::from_vector(ids));
      if (what == "lookup step") {
        table.lookup_fused_backward_step(Tensor::from_vector(ids), Tensor::zeros({5, kDim}), opt);
      }
    });
    EXPECT_TRUE(contains(message, rank_and_position)) << message;
    EXPECT_TRUE(contains(message, "at position 3")) << message;
    EXPECT_TRUE(contains(message, std::to_string(kRows + 4))) << message;
  }
  testing::expect_bitwise_equal(table.shard(), before);
}

TEST(ShardedBadInput, BadOffsetsAndShapesOnOneRankAreErrorsOnEveryRank) {
  const Communicator comm = Communicator::world();
  const int culprit = comm.size() / 2;
  ShardedEmbeddingBag table(comm, ShardedEmbeddingBagOptions(kRows, kDim).mode(BagMode::Sum),
                            normal_rows(3));
  optim::SGD opt(optim::make_parameters(table.shard_module()), optim::SGDOptions(0.5));
  const Tensor before = table.shard().clone();
  const Tensor ids = Tensor::from_vector(std::vector<std::int64_t>{1, 2, 3});
  const Tensor offsets = Tensor::from_vector(
      comm.rank() == culprit ? std::vector<std::int64_t>{0, 5} : std::vector<std::int64_t>{0, 1});
  std::string message = error_of<ValueError>([&] { table.forward(ids, offsets); });
  EXPECT_TRUE(contains(message, "rank " + std::to_string(culprit) + ": ")) << message;
  // A gradient of the wrong shape on one rank: no rank steps.
  const Tensor grad = Tensor::zeros({comm.rank() == culprit ? 3 : 1, kDim});
  message = error_of<ValueError>([&] {
    table.fused_backward_step(ids, Tensor::from_vector(std::vector<std::int64_t>{0}), grad, opt);
  });
  EXPECT_TRUE(contains(message, "rank " + std::to_string(culprit) + ": ")) << message;
  testing::expect_bitwise_equal(table.shard(), before);
}

TEST(ShardedBadInput, AnOptimizerWithoutTheShardIsRefusedEverywhere) {
  const Communicator comm = Communicator::world();
  ShardedEmbeddingBag table(comm, ShardedEmbeddingBagOptions(kRows, kDim).mode(BagMode::Sum),
                            normal_rows(3));
  Tensor other = Tensor::zeros({kRows, kDim});
  optim::SGD opt({optim::Parameter{"other", other, std::nullopt}}, optim::SGDOptions(0.5));
  const Tensor ids = Tensor::from_vector(std::vector<std::int64_t>{1});
  const Tensor offsets = Tensor::from_vector(std::vector<std::int64_t>{0});
  const std::string message = error_of<ValueError>([&] {
    table.fused_backward_step(ids, offsets, Tensor::zeros({1, kDim}), opt);
  });
  EXPECT_TRUE(contains(message, "not among the optimizer's parameters")) << message;
}

TEST(ShardedBadInput, RanksThatDisagreeOnTheTableAreStoppedAtConstruction) {
  const Communicator comm = Communicator::world();
  if (comm.size() == 1) GTEST_SKIP() << "one rank cannot disagree with itself";
  const bool last = comm.rank() == comm.size() - 1;
  std::string message = error_of<ValueError>([&] {
    ShardedEmbeddingBag(comm, ShardedEmbeddingBagOptions(kRows, last ? kDim + 1 : kDim),
                        normal_rows(3));
  });
  EXPECT_TRUE(contains(message, "disagree on embedding_dim (from 4 to 5)")) << message;
  message = error_of<ValueError>([&] {
    ShardedEmbeddingBag(comm,
                        ShardedEmbeddingBagOptions(kRows, kDim)
                            .mode(last ? BagMode::Sum : BagMode::Mean)
                            .sharding(last ? ShardingKind::RowWiseCyclic : ShardingKind::RowWise),
                        normal_rows(3));
  });
  EXPECT_TRUE(contains(message, "mode")) << message;
  EXPECT_TRUE(contains(message, "sharding")) << message;
}

TEST(ShardedBadInput, AnInvalidOptionOnOneRankIsAnErrorOnEveryRank) {
  const Communicator comm = Communicator::world();
  const std::string message = error_of<ValueError>([&] {
    ShardedEmbeddingBag(
        comm, ShardedEmbeddingBagOptions(kRows, kDim).padding_idx(comm.rank() == 0 ? kRows : 0),
        normal_rows(3));
  });
  EXPECT_TRUE(contains(message, "rank 0: ")) << message;
  EXPECT_THROW(
      ShardedEmbeddingBag(
          comm,
          ShardedEmbeddingBagOptions(kRows, kDim).mode(BagMode::Mean).scale_grad_by_freq(true),
          normal_rows(3)),
      ValueError);
  EXPECT_THROW(ShardedEmbeddingBag(comm,
                                   ShardedEmbeddingBagOptions(kRows, kDim)
                                       .sharding(ShardingKind::TableWise)
                                       .table_owner(comm.size()),
                                   normal_rows(3)),
               ValueError);
}

}  // namespace
}  // namespace embedkit::dist
