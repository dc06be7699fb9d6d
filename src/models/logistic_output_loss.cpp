#include "models/logistic_output_loss.hpp"

#include <algorithm>

namespace embedkit::models::training {

double NegativeSamplingLoss::update(const float* hidden, std::int64_t target, float lr, float* grad,
                                    embedkit::detail::SplitMix64& rng) {
  std::fill(grad, grad + dim_, 0.0f);
  double loss = 0;
  for_each_sampled_target(target, sampler_, negative_, rng, [&](std::int64_t row, float label) {
    loss += binary_logistic_update(hidden, output_ + static_cast<std::size_t>(row) * dim_, label,
                                   lr, grad, dim_);
  });
  return loss;
}

double HierarchicalSoftmaxLoss::update(const float* hidden, std::int64_t target, float lr,
                                       float* grad, embedkit::detail::SplitMix64& /*rng*/) {
  std::fill(grad, grad + dim_, 0.0f);
  double loss = 0;
  for_each_path_target(target, tree_, positive_, [&](std::int64_t row, float label) {
    loss += binary_logistic_update(hidden, output_ + static_cast<std::size_t>(row) * dim_, label,
                                   lr, grad, dim_);
  });
  return loss;
}

}  // namespace embedkit::models::training
