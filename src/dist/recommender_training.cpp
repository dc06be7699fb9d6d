// The recommender trained across the ranks (recommender_training.hpp): the one-process training
// loop of models::MatrixFactorization::fit (its batches and gradients: models/mf_batches.hpp),
// with every rank computing the gradient of its share of each mini-batch and the tables' owners
// stepping over the whole batch. Moved from the command (tools/embedkit/recommend_mpi.cpp) so
// that the Python module runs the same loop.
#include "embedkit/dist/recommender_training.hpp"

#include <mpi.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <numeric>
#include <string>
#include <utility>

#include "dist/agreement.hpp"
#include "dist/communicator_impl.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/dist/sharded_embedding_bag.hpp"
#include "embedkit/dist/table_averaging.hpp"
#include "embedkit/models/id_map.hpp"
#include "embedkit/models/mf_batches.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace embedkit::dist {
namespace {

using models::MfObjective;
using models::MfOptimizer;
using models::MfOptions;

// One table of the model, sharded, with its own optimizer (the one-process model's optimizer
// keeps its state per parameter, so one optimizer per table steps alike).
struct ShardedTable {
  ShardedTable(const Communicator& comm, const Tensor& full, ShardingKind kind, const MfOptions& o)
      : table(comm,
              ShardedEmbeddingBagOptions(full.size(0), full.size(1))
                  .mode(BagMode::Sum)
                  .sharding(kind),
              [&full](std::int64_t row, float* values, std::int64_t dim) {
                std::copy_n(full.data<float>() + row * dim, dim, values);
              }) {
    std::vector<optim::Parameter> params = optim::make_parameters(table.shard_module());
    if (o.optimizer == MfOptimizer::SparseAdam) {
      opt = std::make_unique<optim::SparseAdam>(std::move(params), optim::SparseAdamOptions(o.lr));
    } else {
      opt = std::make_unique<optim::RowWiseAdagrad>(std::move(params),
                                                    optim::RowWiseAdagradOptions(o.lr));
    }
  }
  Tensor lookup(const std::vector<std::int64_t>& ids) {
    return table.lookup(Tensor::from_vector(ids));
  }
  void step(const std::vector<std::int64_t>& ids, const std::vector<float>& grad) {
    const auto n = static_cast<std::int64_t>(ids.size());
    table.lookup_fused_backward_step(
        Tensor::from_vector(ids), Tensor::from_floats(grad, {n, table.options().embedding_dim()}),
        *opt);
  }
  // The whole table on rank 0 (an empty one elsewhere), or on every rank.
  Tensor gather(ResultOn where) {
    std::vector<std::int64_t> all;
    if (where == ResultOn::EveryRank || table.comm().rank() == 0) {
      all.resize(static_cast<std::size_t>(table.options().num_embeddings()));
      std::iota(all.begin(), all.end(), std::int64_t{0});
    }
    return lookup(all);
  }

  ShardedEmbeddingBag table;
  std::unique_ptr<optim::Optimizer> opt;
};

double sum_over_ranks(const Communicator& comm, double value) {
  double total = 0.0;
  detail::check_mpi(MPI_Allreduce(&value, &total, 1, MPI_DOUBLE, MPI_SUM, detail::native(comm)),
                    "MPI_Allreduce");
  return total;
}

// Trains on every rank; returns the tables on rank 0.
std::optional<models::MatrixFactorization> fit_sharded(
    const Communicator& comm, const models::Interactions& train, std::int64_t num_users,
    std::int64_t num_items, const MfOptions& o,
    const std::function<void(const models::MfEpochReport&)>& on_epoch, ResultOn result_on) {
  const int rank = comm.rank();
  const int ranks = comm.size();
  const std::size_t n = train.size();
  const bool bpr = o.objective == MfObjective::Bpr;
  std::optional<ShardedTable> p_table, q_table, bu_table, bi_table, g_table;
  {
    // The initial tables as one process draws them (a transient full copy on every rank: the
    // one-process draw is one generator over the whole table), then each rank keeps its rows.
    models::MatrixFactorization init(num_users, num_items, o);
    if (!bpr) {
      for (const float r : train.ratings) {
        if (!std::isfinite(r)) throw ValueError("matrix factorization: a rating is not finite");
      }
      double sum = 0.0;
      for (const float r : train.ratings) sum += r;
      init.global_bias().weight().data<float>()[0] =
          static_cast<float>(sum / static_cast<double>(n));
    }
    const auto cyclic = ShardingKind::RowWiseCyclic;
    p_table.emplace(comm, init.user_factors().weight(), cyclic, o);
    q_table.emplace(comm, init.item_factors().weight(), cyclic, o);
    bu_table.emplace(comm, init.user_bias().weight(), cyclic, o);
    bi_table.emplace(comm, init.item_bias().weight(), cyclic, o);
    g_table.emplace(comm, init.global_bias().weight(), ShardingKind::TableWise, o);
  }

  const std::int64_t d = o.dim;
  // The batches of MatrixFactorization::fit: every rank draws the whole batch (BPR's negatives
  // of every sample too, so that the generator runs as in one process), then takes its
  // contiguous share [lo, hi).
  models::MfBatches batches(train, num_users, num_items, o);
  const auto bs = static_cast<std::size_t>(o.batch_size);
  std::vector<std::int64_t> all_users, all_items, ub, ib, zeros;
  std::vector<float> ratings;
  models::MfGradients grads;
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    batches.shuffle();
    double loss_sum = 0.0;
    for (std::size_t begin = 0; begin < n; begin += bs) {
      const std::size_t b = std::min(bs, n - begin);
      // The scale of the whole batch: each rank's terms are the batch's.
      const float c = models::mf_gradient_scale(o.objective, b);
      batches.batch(begin, b, all_users, all_items, ratings);
      const std::size_t lo = b * static_cast<std::size_t>(rank) / static_cast<std::size_t>(ranks);
      const std::size_t hi =
          b * static_cast<std::size_t>(rank + 1) / static_cast<std::size_t>(ranks);
      const std::size_t m = hi - lo;
      const auto lo_d = static_cast<std::ptrdiff_t>(lo);
      const auto hi_d = static_cast<std::ptrdiff_t>(hi);
      ub.assign(all_users.begin() + lo_d, all_users.begin() + hi_d);
      ib.assign(all_items.begin() + lo_d, all_items.begin() + hi_d);
      if (bpr) {
        const auto b_d = static_cast<std::ptrdiff_t>(b);
        ib.insert(ib.end(), all_items.begin() + b_d + lo_d, all_items.begin() + b_d + hi_d);
      }
      const Tensor p = p_table->lookup(ub);
      const Tensor q = q_table->lookup(ib);
      const Tensor bi = bi_table->lookup(ib);
      models::MfRows rows;
      rows.p = p.data<float>();
      rows.q = q.data<float>();
      rows.item_bias = bi.data<float>();
      if (!bpr) {
        const Tensor bu = bu_table->lookup(ub);
        zeros.assign(m, 0);
        const Tensor gt = g_table->lookup(zeros);
        rows.user_bias = bu.data<float>();
        rows.global_bias = gt.data<float>();
        rows.global_bias_stride = 1;
        models::rating_gradients(rows, ratings.data() + lo, m, d, c, o, grads, loss_sum);
        p_table->step(ub, grads.p);
        q_table->step(ib, grads.q);
        bu_table->step(ub, grads.user_bias);
        bi_table->step(ib, grads.item_bias);
        g_table->step(zeros, grads.global_bias);
      } else {
        models::bpr_gradients(rows, m, d, c, o, grads, loss_sum);
        // The owners receive each rank's positives and negatives together: in one process the
        // batch's items are all positives, then all negatives, so the sum of a row's terms may
        // come in another order at P > 1 (see recommend_mpi.hpp).
        p_table->step(ub, grads.p);
        q_table->step(ib, grads.q);
        bi_table->step(ib, grads.item_bias);
      }
      // The loss of the whole batch, on every rank: the ranks stop together when it diverges.
      const double batch_loss = sum_over_ranks(comm, loss_sum);
      if (!std::isfinite(batch_loss)) {
        throw models::TrainingDivergedError(epoch, "rating", static_cast<std::int64_t>(begin + b),
                                            models::non_finite_loss(batch_loss), "--lr");
      }
      loss_sum = rank == 0 ? batch_loss : 0.0;  // rank 0 carries the running total
    }
    {
      // The report is rank 0's, and so is any exception it throws: the ranks agree on it
      // (one int, every epoch, whether or not a rank has a callback), so that an exception
      // stops every rank, not rank 0 alone.
      std::exception_ptr error;
      if (rank == 0 && on_epoch) {
        models::MfEpochReport report;
        report.epoch = epoch;
        report.loss = loss_sum / static_cast<double>(n);
        report.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        try {
          on_epoch(report);
        } catch (...) {
          error = std::current_exception();
        }
      }
      int failed = error ? 1 : 0;
      detail::check_mpi(
          MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, detail::native(comm)),
          "MPI_Allreduce");
      if (error) std::rethrow_exception(error);
      if (failed != 0) throw PeerFailedError(0);
    }
  }
  Tensor pf = p_table->gather(result_on);
  Tensor qf = q_table->gather(result_on);
  Tensor buf = bu_table->gather(result_on);
  Tensor bif = bi_table->gather(result_on);
  Tensor gf = g_table->gather(result_on);
  if (result_on == ResultOn::RankZero && rank != 0) return std::nullopt;
  models::MatrixFactorization trained(o, pf, qf, buf, bif, gf);
  for (const auto& [name, table] : trained.named_parameters()) {
    const std::string problem = models::non_finite_tensor(table, name);
    if (!problem.empty()) {
      throw models::TrainingDivergedError(o.epochs, "rating", static_cast<std::int64_t>(n), problem,
                                          "--lr");
    }
  }
  return trained;
}

// The XXH64 of the ratings (user, item, rating, in order): what the ranks compare to know they
// train on the same data. Timestamps and line numbers do not enter training.
std::int64_t ratings_digest(const std::vector<models::Rating>& train) {
  // Serialised once and hashed in one call (a transient copy of the ids, as the id maps make):
  // each id with its length first, so that ("ab", "c") and ("a", "bc") differ.
  std::string bytes;
  auto append = [&bytes](const void* data, std::size_t size) {
    bytes.append(static_cast<const char*>(data), size);
  };
  for (const models::Rating& r : train) {
    for (const std::string* id : {&r.user, &r.item}) {
      const auto size = static_cast<std::uint64_t>(id->size());
      append(&size, sizeof size);
      append(id->data(), id->size());
    }
    append(&r.rating, sizeof r.rating);
  }
  return std::bit_cast<std::int64_t>(
      static_cast<std::uint64_t>(XXH64(bytes.data(), bytes.size(), 0)));
}

std::int64_t bits(double v) {
  return std::bit_cast<std::int64_t>(v);
}

}  // namespace

std::optional<models::Recommender> train_recommender(
    const Communicator& comm, const std::vector<models::Rating>& train, const MfOptions& options,
    const std::function<void(const models::MfEpochReport&)>& on_epoch, ResultOn result_on) {
  detail::agree_on(comm, [&] {
    options.validate();
    if (train.empty()) throw ValueError("no ratings to train on");
  });
  const MfOptions& o = options;
  detail::check_same_on_all_ranks(
      comm, "recommender",
      {{"objective", static_cast<std::int64_t>(o.objective)},
       {"optimizer", static_cast<std::int64_t>(o.optimizer)},
       {"dim", o.dim},
       {"epochs", o.epochs},
       {"lr (float64 bits)", bits(o.lr)},
       {"l2 (float64 bits)", bits(o.l2)},
       {"l2_bias (float64 bits)", bits(o.l2_bias)},
       {"batch_size", o.batch_size},
       {"init_std (float64 bits)", bits(o.init_std)},
       {"seed", std::bit_cast<std::int64_t>(o.seed)},
       {"the number of ratings", static_cast<std::int64_t>(train.size())},
       {"the ratings' XXH64", ratings_digest(train)}},
      "every rank must train on the same ratings with the same options");
  // Rows as models::train_recommender maps them.
  const models::IndexedRatings indexed = models::index_ratings(train);
  std::optional<models::MatrixFactorization> model =
      fit_sharded(comm, indexed.data, static_cast<std::int64_t>(indexed.users.size()),
                  static_cast<std::int64_t>(indexed.items.size()), options, on_epoch, result_on);
  if (!model) return std::nullopt;
  return models::make_recommender(indexed, std::move(*model));
}

}  // namespace embedkit::dist
