// Biased matrix factorization for recommendation, trained through embedkit's own tables and
// fused row-sparse optimizer steps.
//
// Model: score(u, i) = g + b_u + b_i + <p_u, q_i>, with five nn::Embedding tables: user
// factors P [U, D], item factors Q [I, D], user biases [U, 1], item biases [I, 1] and the
// global bias [1, 1] (looked up with id 0). Factors start from N(0, init_std^2), biases at 0
// and the global bias at the mean training rating.
//
// Objectives:
//   - Rating (explicit feedback): per mini-batch of B ratings, minimise
//       (1/B) sum_b [ (score(u_b, i_b) - r_b)^2 + l2 (|p_u|^2 + |q_i|^2) + l2_bias (b_u^2 + b_i^2)
//       ]
//   - Bpr (implicit feedback, Rendle et al. 2009): for each training pair (u, i) one item j the
//     user has not rated is drawn uniformly (up to 10 draws; the last one stands), and
//       (1/B) sum_b [ -log sigmoid(x_uij) + l2 (|p_u|^2 + |q_i|^2 + |q_j|^2)
//                     + l2_bias (b_i^2 + b_j^2) ],  x_uij = score(u, i) - score(u, j)
//     (user and global biases cancel in x and stay 0).
//
// L2 and row-sparse updates: the penalty is part of each sample's loss, so its gradient
// (2 l2 p_u for the rating objective) is added to the gradient row of every lookup of p_u in
// the batch, before optim::fused_backward_step sums the rows per id and hands them to the
// optimizer. Only rows the batch touches are regularised, in proportion to how often they occur
// (frequent users and items are pulled towards 0 more often, as in the classic SGD
// formulation of Koren et al.); untouched rows, and their optimizer state, are left alone, which
// keeps every step O(batch) instead of O(table). Dense weight decay over the whole table would
// touch every row on every step and is not what row-sparse optimizers do.
//
// Optimizers: optim::SparseAdam or optim::RowWiseAdagrad, one parameter per table, updated with
// optim::fused_backward_step (the gradient tables never exist as a whole). Training is
// deterministic for a given seed: the epoch shuffles and negative draws come from a Generator.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "embedkit/core/named_tensors.hpp"
#include "embedkit/nn/embedding.hpp"

namespace embedkit::models {

enum class MfObjective { Rating, Bpr };
enum class MfOptimizer { SparseAdam, RowWiseAdagrad };

std::string objective_name(MfObjective objective);     // "rating", "bpr"
std::string optimizer_name(MfOptimizer optimizer);     // "sparse-adam", "rowwise-adagrad"
MfObjective parse_objective(const std::string& name);  // ValueError on an unknown name
MfOptimizer parse_optimizer(const std::string& name);  // ValueError on an unknown name

// The defaults are the configuration tuned on MovieLens latest-small (80/20 random split):
// see BENCHMARKS.md, "Recommender".
struct MfOptions {
  MfObjective objective = MfObjective::Rating;
  MfOptimizer optimizer = MfOptimizer::RowWiseAdagrad;
  std::int64_t dim = 64;
  std::int64_t epochs = 10;
  double lr = 0.05;
  double l2 = 0.1;        // on factor rows, per lookup
  double l2_bias = 0.01;  // on user and item biases, per lookup
  std::int64_t batch_size = 1024;
  double init_std = 0.01;
  std::uint64_t seed = 42;

  // Throws ValueError naming the first bad option.
  void validate() const;
};

// Training pairs as table rows.
struct Interactions {
  std::vector<std::int64_t> users;
  std::vector<std::int64_t> items;
  std::vector<float> ratings;  // unused by BPR
  std::size_t size() const { return users.size(); }
};

struct MfEpochReport {
  std::int64_t epoch = 0;  // 1-based
  double loss = 0.0;       // mean data loss (squared error or -log sigmoid), without L2
  double seconds = 0.0;    // since training started
};

class MatrixFactorization {
 public:
  // Tables for `num_users` x `num_items` (both >= 1) of dimension options.dim, drawn from a
  // Generator seeded with options.seed.
  MatrixFactorization(std::int64_t num_users, std::int64_t num_items, const MfOptions& options);
  // Over existing float32 tables (a loaded model's), used as they are (shared, not copied):
  // user factors [U, D], item factors [I, D], user biases [U, 1], item biases [I, 1] and the
  // global bias [1, 1], with U, I >= 1 and D = options.dim (ValueError otherwise).
  MatrixFactorization(const MfOptions& options, Tensor user_factors, Tensor item_factors,
                      Tensor user_bias, Tensor item_bias, Tensor global_bias);

  // Trains for options().epochs on `train` (rows must be in range: ValueError otherwise).
  // `on_epoch` is called after every epoch. The loss is checked after every batch and the
  // tables once at the end: training that runs off to NaN or infinity (a learning rate too
  // large) stops with TrainingDivergedError (training_divergence.hpp), and the model is then
  // left diverged: train again with a lower lr rather than use or save it.
  // `between_batches` is called between mini-batches, at most every kBetweenBatchesSeconds: the
  // place for a caller to stop a long epoch by throwing (Python's Ctrl-C); the exception
  // propagates and the model is left partly trained.
  void fit(const Interactions& train,
           const std::function<void(const MfEpochReport&)>& on_epoch = {},
           const std::function<void()>& between_batches = {});
  static constexpr double kBetweenBatchesSeconds = 0.05;

  // g + b_u + b_i + <p_u, q_i> (rows must be in range).
  float score(std::int64_t user, std::int64_t item) const;
  // The part of a score that does not depend on the user: g + b_i.
  float item_baseline(std::int64_t item) const;
  float global_bias_value() const { return global_bias_.weight().data<float>()[0]; }
  float user_bias_value(std::int64_t user) const { return user_bias_.weight().data<float>()[user]; }
  float item_bias_value(std::int64_t item) const { return item_bias_.weight().data<float>()[item]; }
  // Scores of every item for `user` (num_items() values; b_u and g included).
  std::vector<float> scores_for_user(std::int64_t user) const;

  std::int64_t num_users() const { return user_factors_.weight().size(0); }
  std::int64_t num_items() const { return item_factors_.weight().size(0); }
  std::int64_t dim() const { return user_factors_.weight().size(1); }
  const MfOptions& options() const { return options_; }
  void set_options(const MfOptions& options) { options_ = options; }

  nn::Embedding& user_factors() { return user_factors_; }
  nn::Embedding& item_factors() { return item_factors_; }
  nn::Embedding& user_bias() { return user_bias_; }
  nn::Embedding& item_bias() { return item_bias_; }
  nn::Embedding& global_bias() { return global_bias_; }
  const nn::Embedding& item_factors() const { return item_factors_; }

  // The five tables under their state_dict names ("user_factors.weight", ...), sharing storage
  // (const as LibTorch's: the tensors are handles, writing through them changes the model).
  NamedTensors named_parameters() const;

 private:
  MfOptions options_;
  nn::Embedding user_factors_;
  nn::Embedding item_factors_;
  nn::Embedding user_bias_;
  nn::Embedding item_bias_;
  nn::Embedding global_bias_;
};

}  // namespace embedkit::models
