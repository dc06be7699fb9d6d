// An embedding table sharded over the ranks of a Communicator (docs/distributed.md): each rank
// holds its rows (Sharding) as an ordinary embedkit table, and every operation is collective:
// all ranks call it, each with its own batch (data-parallel input; a batch may be empty).
//
//   dist::ShardedEmbeddingBag table(comm, dist::ShardedEmbeddingBagOptions(1 << 20, 64)
//                                             .mode(BagMode::Sum)
//                                             .sharding(dist::ShardingKind::RowWise),
//                                   dist::normal_rows(seed));
//   optim::RowWiseAdagrad opt(optim::make_parameters(table.shard_module()), ...);
//   Tensor pooled = table.forward(ids, offsets);           // [this rank's bags, 64]
//   ...
//   table.fused_backward_step(ids, offsets, grad, opt);     // each owner updates its rows
//
// Forward: the rank's distinct ids are bucketed by owner and sent with MPI_Alltoallv; each
// owner sends back the rows (not per-bag partial sums: rows keep every bag's summation order
// that of one process, hence the bit-for-bit equality below); the bags are then pooled here
// by embedkit's own embedding_bag over the fetched rows. Backward: one term (row, scale) per
// id occurrence plus each bag's gradient row once per owner go to the owners, which run
// optim::fused_backward_step on their shard: no rank holds the full table or a full gradient.
//
// Exactness: over any P and sharding, forward() equals nn::functional::embedding_bag on the
// whole table for this rank's batch, and fused_backward_step() leaves every row as one process
// leaves it stepping over the concatenation of all ranks' batches in rank order, bit for bit
// (float32; any optimizer optim::fused_backward_step takes, since the owners run it; tested with
// SGD, Adagrad, RowWiseAdagrad and SparseAdam). Refused because it would not be exact:
// scale_grad_by_freq with mean mode.
//
// Bad input on any rank (an out-of-range id, bad offsets, wrong shapes) throws on every rank,
// naming the rank ("rank 2: ids: value 1000 at position 5 ..."), before anything is exchanged
// or written: the ranks agree on the validity of their input (MPI_Allreduce) first.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/dtype.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/exchange_stats.hpp"
#include "embedkit/dist/sharding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::dist {

struct ShardedEmbeddingBagOptions {
  ShardedEmbeddingBagOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}

  EMBEDKIT_ARG(std::int64_t, num_embeddings);
  EMBEDKIT_ARG(std::int64_t, embedding_dim);
  EMBEDKIT_ARG(BagMode, mode) = BagMode::Mean;
  EMBEDKIT_ARG(bool, scale_grad_by_freq) = false;
  EMBEDKIT_ARG(bool, include_last_offset) = false;
  // Ids equal to padding_idx are left out of their bag (in [-N, N), as nn::EmbeddingBag).
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  // float32, float16 or bfloat16 (the fused step needs float32).
  EMBEDKIT_ARG(DType, dtype) = DType::Float32;
  EMBEDKIT_ARG(ShardingKind, sharding) = ShardingKind::RowWise;
  // TableWise: the rank that holds the table.
  EMBEDKIT_ARG(int, table_owner) = 0;
};

// Fills one row, given its global index: how a rank initialises only its own rows, the same
// whatever P and the sharding are.
using RowInit = std::function<void(std::int64_t row, float* values, std::int64_t dim)>;

// N(0, 1) values, as nn::EmbeddingBag's initialisation, from a generator seeded per row with
// (seed, row): row r's values do not depend on P. (Not the same numbers as one
// nn::EmbeddingBag drawing the whole table from one Generator.)
RowInit normal_rows(std::uint64_t seed);

class ShardedEmbeddingBag {
 public:
  // Collective. Checks the options on every rank, then that all ranks agree on them (shapes,
  // dtype, mode, padding, sharding): ValueError on every rank otherwise. Each rank allocates
  // and initialises only its rows (the padding row zeroed, as nn::EmbeddingBag does).
  ShardedEmbeddingBag(Communicator comm, const ShardedEmbeddingBagOptions& options,
                      const RowInit& init);

  // EmbeddingBag semantics for this rank's bags (2-D ids [B, L], or 1-D ids + offsets), with
  // optional per-sample weights (sum mode). Returns [B, D] in the table's dtype.
  Tensor forward(const Tensor& ids, const Tensor& offsets = Tensor(),
                 const Tensor& per_sample_weights = Tensor());
  // nn.Embedding semantics: [ids' shape..., D], padding ids read the padding row.
  Tensor lookup(const Tensor& ids);

  // Backward of forward() fused with the optimizer step at the owners. The optimizer must hold
  // this rank's shard_module() weight (optim::make_parameters(shard_module())). grad_output is
  // float32 [B, D].
  void fused_backward_step(const Tensor& ids, const Tensor& offsets, const Tensor& grad_output,
                           optim::Optimizer& optimizer,
                           const Tensor& per_sample_weights = Tensor());
  // Backward of lookup() fused with the step; grad_output is float32 [ids' shape..., D]. Equals
  // optim::fused_backward_step on an nn::Embedding (with padding_idx and scale_grad_by_freq).
  void lookup_fused_backward_step(const Tensor& ids, const Tensor& grad_output,
                                  optim::Optimizer& optimizer);

  const Communicator& comm() const { return comm_; }
  const Sharding& sharding() const { return sharding_; }
  const ShardedEmbeddingBagOptions& options() const { return options_; }
  // This rank's rows [shard_rows, D]: global row sharding().global_row(rank, i) is row i.
  Tensor& shard() { return shard_module_.weight(); }
  const Tensor& shard() const { return shard_module_.weight(); }
  // The shard as a module (sum mode, the local padding row when this rank holds it), for
  // optim::make_parameters and checkpoints.
  nn::EmbeddingBag& shard_module() { return shard_module_; }
  const nn::EmbeddingBag& shard_module() const { return shard_module_; }
  // The padding row normalised to [0, N), or -1.
  std::int64_t padding_row() const { return padding_; }
  // What the last collective call cost this rank.
  const ExchangeStats& last_stats() const { return stats_; }

 private:
  struct Fetched;
  // Fetches the rows of `rows` (skipping `skip`, -1 for none) from their owners.
  Fetched fetch_rows(const std::vector<std::int64_t>& rows, std::int64_t skip);
  // Routes (row, gradient row, scale) terms to the owners, which step their shard.
  void route_and_step(const std::vector<std::int64_t>& rows,
                      const std::vector<std::int64_t>& grad_index, const std::vector<float>& scales,
                      const float* grad_rows, optim::Optimizer& optimizer);
  void check_optimizer(const optim::Optimizer& optimizer, const std::string& who) const;

  Communicator comm_;
  ShardedEmbeddingBagOptions options_;
  std::int64_t padding_ = -1;  // before sharding_: its initialisation sets it
  Sharding sharding_;
  nn::EmbeddingBag shard_module_;
  ExchangeStats stats_;
  // Buffers of the exchanges, kept for the next call (sized by the largest batch so far): the
  // rows this rank answers and those it fetched, the gradient rows it sends and receives, and
  // the owner's per-term gradient.
  std::vector<std::pair<std::int64_t, std::int64_t>> keyed_;
  std::vector<unsigned char> answer_;
  std::vector<unsigned char> fetched_;
  std::vector<float> grads_out_;
  std::vector<float> grads_in_;
  std::vector<float> grads_expanded_;
};

}  // namespace embedkit::dist
