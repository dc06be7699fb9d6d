#include "models/logistic_output_loss.hpp"

#include <algorithm>
#include <cmath>

#include "models/sigmoid_table.hpp"
#include "models/vector_ops.hpp"

namespace embedkit::models::training {

double binary_logistic_update(const float* hidden, float* row, float label, float lr, float* step,
                              std::size_t dim) {
  const SigmoidTable& table = sigmoid_table();
  const float f = dot(hidden, row, dim);
  float g;
  double loss;
  // Saturated arguments need no table. What is left is in [-kMaxExp, kMaxExp] or NaN, and a NaN
  // must not be converted to an index (undefined behaviour).
  if (f > kMaxExp) {
    g = label - 1.0f;
    loss = label > 0 ? 0.0 : static_cast<double>(f);
  } else if (f < -kMaxExp) {
    g = label;
    loss = label > 0 ? static_cast<double>(-f) : 0.0;
  } else if (!std::isnan(f)) {
    const std::size_t i = SigmoidTable::index(f);
    g = label - table.sigmoid[i];
    loss = label > 0 ? table.neg_log_sigmoid[i] : table.neg_log_sigmoid[kSigmoidTableSize - i];
  } else {
    g = 0.0f;
    loss = static_cast<double>(f);
  }
  g *= lr;
  axpy(g, row, step, dim);
  axpy(g, hidden, row, dim);
  return loss;
}

double NegativeSamplingLoss::update(const float* hidden, std::int64_t target, float lr, float* step,
                                    embedkit::detail::SplitMix64& rng) {
  std::fill(step, step + dim_, 0.0f);
  double loss = 0;
  for_each_sampled_target(target, sampler_, negative_, rng, [&](std::int64_t row, float label) {
    loss += binary_logistic_update(hidden, output_ + static_cast<std::size_t>(row) * dim_, label,
                                   lr, step, dim_);
  });
  return loss;
}

double HierarchicalSoftmaxLoss::update(const float* hidden, std::int64_t target, float lr,
                                       float* step, embedkit::detail::SplitMix64& /*rng*/) {
  std::fill(step, step + dim_, 0.0f);
  double loss = 0;
  for_each_path_target(target, tree_, positive_, [&](std::int64_t row, float label) {
    loss += binary_logistic_update(hidden, output_ + static_cast<std::size_t>(row) * dim_, label,
                                   lr, step, dim_);
  });
  return loss;
}

}  // namespace embedkit::models::training
