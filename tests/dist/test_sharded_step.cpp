// The sharded backward + fused step leaves every row as one process leaves it after stepping
// over the concatenation of all ranks' batches (rank order), bit for bit: SGD, Adagrad,
// row-wise Adagrad and SparseAdam, every sharding, sum (per-sample weights, scale_grad_by_freq) and
// mean pooling, several steps, uneven shards, an empty batch on rank 1.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "dist/dist_fixtures.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace embedkit::dist {
namespace {

using testing::Batch;

constexpr std::int64_t kRows = 37;
constexpr std::int64_t kDim = 12;
constexpr int kSteps = 3;

using MakeOptimizer =
    std::function<std::unique_ptr<optim::Optimizer>(std::vector<optim::Parameter>)>;

struct NamedOptimizer {
  std::string name;
  MakeOptimizer make;
};

std::vector<NamedOptimizer> optimizers() {
  return {
      {"SGD",
       [](std::vector<optim::Parameter> p) {
         return std::make_unique<optim::SGD>(std::move(p), optim::SGDOptions(0.3));
       }},
      {"Adagrad",
       [](std::vector<optim::Parameter> p) {
         return std::make_unique<optim::Adagrad>(std::move(p),
                                                 optim::AdagradOptions(0.2).lr_decay(0.01));
       }},
      {"RowWiseAdagrad",
       [](std::vector<optim::Parameter> p) {
         return std::make_unique<optim::RowWiseAdagrad>(std::move(p),
                                                        optim::RowWiseAdagradOptions(0.2));
       }},
      // Its bias correction counts steps: every rank steps each time, with or without rows.
      {"SparseAdam",
       [](std::vector<optim::Parameter> p) {
         return std::make_unique<optim::SparseAdam>(std::move(p), optim::SparseAdamOptions(0.05));
       }},
  };
}

struct Variant {
  std::string name;
  BagMode mode;
  bool weights;
  bool scale_grad_by_freq;
};

TEST(ShardedStep, EqualsOneProcessOverTheGlobalBatch) {
  const Communicator comm = Communicator::world();
  const std::vector<Variant> variants = {{"mean", BagMode::Mean, false, false},
                                         {"sum+weights", BagMode::Sum, true, false},
                                         {"sum+freq", BagMode::Sum, true, true}};
  for (const NamedOptimizer& opt : optimizers()) {
    for (const Variant& v : variants) {
      for (ShardingKind kind :
           {ShardingKind::RowWise, ShardingKind::RowWiseCyclic, ShardingKind::TableWise}) {
        SCOPED_TRACE(opt.name + " " + v.name + " " + sharding_kind_name(kind));
        const std::int64_t padding = 1;
        ShardedEmbeddingBag table(comm,
                                  ShardedEmbeddingBagOptions(kRows, kDim)
                                      .mode(v.mode)
                                      .padding_idx(padding)
                                      .scale_grad_by_freq(v.scale_grad_by_freq)
                                      .sharding(kind)
                                      .table_owner(comm.size() / 2),
                                  normal_rows(21));
        std::unique_ptr<optim::Optimizer> sharded_opt =
            opt.make(optim::make_parameters(table.shard_module()));

        nn::EmbeddingBag reference(
            nn::EmbeddingBagOptions(kRows, kDim)
                .mode(v.mode)
                .padding_idx(padding)
                .scale_grad_by_freq(v.scale_grad_by_freq)
                .weight(testing::full_table(kRows, kDim, normal_rows(21), padding)));
        std::unique_ptr<optim::Optimizer> reference_opt =
            opt.make(optim::make_parameters(reference));

        for (int step = 0; step < kSteps; ++step) {
          const Batch global =
              testing::global_batch(comm.size(), kRows, kDim, 100 + static_cast<unsigned>(step));
          const Batch mine = testing::slice(global, comm.rank(), kDim);
          const Tensor no_weights;
          optim::fused_backward_step(reference, testing::ids_tensor(global),
                                     testing::offsets_tensor(global),
                                     testing::grad_tensor(global, kDim), *reference_opt,
                                     v.weights ? testing::weights_tensor(global) : no_weights);
          table.fused_backward_step(testing::ids_tensor(mine), testing::offsets_tensor(mine),
                                    testing::grad_tensor(mine, kDim), *sharded_opt,
                                    v.weights ? testing::weights_tensor(mine) : no_weights);
        }
        testing::expect_shard_equals(table, reference.weight());
        // And the forward over the trained table still matches.
        const Batch mine =
            testing::slice(testing::global_batch(comm.size(), kRows, kDim, 7), comm.rank(), kDim);
        testing::expect_bitwise_equal(
            table.forward(testing::ids_tensor(mine), testing::offsets_tensor(mine)),
            nn::functional::embedding_bag(
                testing::ids_tensor(mine), reference.weight(), testing::offsets_tensor(mine),
                nn::EmbeddingBagFuncOptions().mode(v.mode).padding_idx(padding)));
      }
    }
  }
}

TEST(ShardedStep, LookupStepEqualsEmbeddingFusedStep) {
  const Communicator comm = Communicator::world();
  for (const NamedOptimizer& opt : optimizers()) {
    for (bool freq : {false, true}) {
      SCOPED_TRACE(opt.name + (freq ? " scale_grad_by_freq" : ""));
      ShardedEmbeddingBag table(comm,
                                ShardedEmbeddingBagOptions(kRows, kDim)
                                    .padding_idx(0)
                                    .scale_grad_by_freq(freq)
                                    .mode(BagMode::Sum)
                                    .sharding(ShardingKind::RowWiseCyclic),
                                normal_rows(31));
      std::unique_ptr<optim::Optimizer> sharded_opt =
          opt.make(optim::make_parameters(table.shard_module()));
      nn::Embedding reference(nn::EmbeddingOptions(kRows, kDim)
                                  .padding_idx(0)
                                  .scale_grad_by_freq(freq)
                                  .weight(testing::full_table(kRows, kDim, normal_rows(31), 0)));
      std::unique_ptr<optim::Optimizer> reference_opt = opt.make(optim::make_parameters(reference));
      for (int step = 0; step < kSteps; ++step) {
        // The ids of the bags, one gradient row per id.
        const Batch global =
            testing::global_batch(comm.size(), kRows, kDim, 200 + static_cast<unsigned>(step));
        const Batch mine = testing::slice(global, comm.rank(), kDim);
        const auto grad_of = [&](const Batch& b, std::int64_t first_id) {
          std::vector<float> g(b.ids.size() * kDim);
          for (std::size_t i = 0; i < g.size(); ++i) {
            g[i] =
                static_cast<float>((static_cast<std::int64_t>(i) + first_id * kDim) % 17) / 7.0f -
                1.1f;
          }
          return Tensor::from_vector(g, Shape{static_cast<std::int64_t>(b.ids.size()), kDim});
        };
        std::int64_t first_id = 0;  // where this rank's ids start in the global batch
        for (int r = 0; r < comm.rank(); ++r) {
          first_id += static_cast<std::int64_t>(testing::slice(global, r, kDim).ids.size());
        }
        optim::fused_backward_step(reference, testing::ids_tensor(global), grad_of(global, 0),
                                   *reference_opt);
        table.lookup_fused_backward_step(testing::ids_tensor(mine), grad_of(mine, first_id),
                                         *sharded_opt);
      }
      testing::expect_shard_equals(table, reference.weight());
    }
  }
}

}  // namespace
}  // namespace embedkit::dist
