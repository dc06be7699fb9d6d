// Matrix factorization's training batches and per-sample gradients, as MatrixFactorization::fit
// draws and computes them. One place for both, because the training over MPI ranks
// (tools/embedkit/recommend_mpi.cpp) must draw the same batches from the same generator and
// compute the same floats in the same order to give the one-process model bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/models/matrix_factorization.hpp"

namespace embedkit::models {

// The epochs' shuffled orders and their batches. The generator is seeded from options.seed;
// each epoch's shuffle, then each BPR negative of each batch, draw from it in turn.
class MfBatches {
 public:
  // train's users must lie in [0, num_users) (MatrixFactorization::fit checks them first).
  MfBatches(const Interactions& train, std::int64_t num_users, std::int64_t num_items,
            const MfOptions& options);

  // The order of the next epoch (a Fisher-Yates shuffle of the previous one).
  void shuffle();

  // Samples begin .. begin + b of this epoch's order: their users, their items and (for the
  // rating objective) their ratings. For BPR, items holds b positives, then one negative per
  // sample: an item drawn uniformly that the user has not rated, within 10 draws (the last
  // draw stands).
  void batch(std::size_t begin, std::size_t b, std::vector<std::int64_t>& users,
             std::vector<std::int64_t>& items, std::vector<float>& ratings);

 private:
  const Interactions& train_;
  std::int64_t num_items_;
  bool bpr_;
  Generator gen_;
  std::vector<std::size_t> order_;
  std::vector<std::vector<std::int64_t>> rated_;  // BPR: each user's rated items, sorted
};

// The gradient scale of a batch of b samples: d(mean loss)/d(sample term) with the rating
// objective's squared error folded in (2 / b), or 1 / b for BPR.
float mf_gradient_scale(MfObjective objective, std::size_t b);

// The rows m samples looked up (rows of `dim` floats, biases one float each). For BPR, q and
// item_bias hold the m positives, then the m negatives. global_bias: one value per sample, or
// the same value for all when global_bias_stride is 0.
struct MfRows {
  const float* p = nullptr;
  const float* q = nullptr;
  const float* user_bias = nullptr;
  const float* item_bias = nullptr;
  const float* global_bias = nullptr;
  std::size_t global_bias_stride = 0;
};

// Gradient rows of the same samples, in the same layout (the tables' fused steps take them).
struct MfGradients {
  std::vector<float> p, q, user_bias, item_bias, global_bias;
};

// The rating objective on m samples: fills every gradient and adds each squared error to
// loss_sum in sample order. scale: mf_gradient_scale of the whole batch.
void rating_gradients(const MfRows& rows, const float* ratings, std::size_t m, std::int64_t dim,
                      float scale, const MfOptions& options, MfGradients& out, double& loss_sum);

// BPR on m samples: fills p, q and item_bias (2m rows) and adds each -log sigmoid(x) to
// loss_sum in sample order.
void bpr_gradients(const MfRows& rows, std::size_t m, std::int64_t dim, float scale,
                   const MfOptions& options, MfGradients& out, double& loss_sum);

}  // namespace embedkit::models
