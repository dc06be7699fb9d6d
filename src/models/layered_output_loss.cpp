#include "models/layered_output_loss.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "embedkit/nn/bce_with_logits_loss.hpp"
#include "embedkit/nn/cross_entropy_loss.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/optim/fused_backward.hpp"

namespace embedkit::models::training {

namespace {

// An optim::SGD with lr 1 over the output table: the step's gradient already holds the rate.
std::unique_ptr<optim::SGD> unit_sgd(const Tensor& table) {
  return std::make_unique<optim::SGD>(
      std::vector<optim::Parameter>{{"output.weight", table, std::nullopt}},
      optim::SGDOptions(1.0));
}

void scale(Tensor& t, float factor) {
  float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] *= factor;
}

void copy_into(const Tensor& gradient, float* grad) {
  std::copy_n(gradient.data<float>(), gradient.numel(), grad);
}

}  // namespace

LayeredSoftmaxLoss::LayeredSoftmaxLoss(const Tensor& output)
    : output_(output),
      sgd_(unit_sgd(output)),
      hidden_(Tensor::empty({1, output.size(1)})),
      target_(Tensor::empty({1}, DType::Int64)) {}

double LayeredSoftmaxLoss::update(const float* hidden, std::int64_t target, float lr, float* grad,
                                  embedkit::detail::SplitMix64& /*rng*/) {
  std::copy_n(hidden, hidden_.numel(), hidden_.data<float>());
  target_.data<std::int64_t>()[0] = target;
  const Tensor logits = nn::functional::linear(hidden_, output_);
  nn::LossOutput ce = nn::functional::cross_entropy(logits, target_);
  const auto loss = static_cast<double>(ce.loss.item());
  scale(ce.grad_input, lr);
  nn::LinearGrad g =
      nn::functional::linear_backward(hidden_, output_, ce.grad_input, /*has_bias=*/false);
  sgd_->step({nn::WeightGrad::from_dense(g.weight)});
  copy_into(g.input, grad);
  return loss;
}

LayeredLogisticLoss::LayeredLogisticLoss(const Tensor& output)
    : output_rows_(nn::EmbeddingOptions(output.size(0), output.size(1)).weight(output)),
      sgd_(unit_sgd(output)),
      hidden_(Tensor::empty({1, output.size(1)})) {}

LayeredLogisticLoss::LayeredLogisticLoss(const Tensor& output, const NegativeSampler& sampler,
                                         std::int64_t negative)
    : LayeredLogisticLoss(output) {
  sampler_ = &sampler;
  negative_ = negative;
}

LayeredLogisticLoss::LayeredLogisticLoss(const Tensor& output, const HuffmanTree& tree)
    : LayeredLogisticLoss(output) {
  tree_ = &tree;
}

double LayeredLogisticLoss::update(const float* hidden, std::int64_t target, float lr, float* grad,
                                   embedkit::detail::SplitMix64& rng) {
  std::copy_n(hidden, hidden_.numel(), hidden_.data<float>());
  rows_.clear();
  labels_.clear();
  auto collect = [this](std::int64_t row, float label) {
    rows_.push_back(row);
    labels_.push_back(label);
  };
  if (tree_ != nullptr) {
    for_each_path_target(target, *tree_, PositiveBranch::One, collect);
  } else {
    for_each_sampled_target(target, *sampler_, negative_, rng, collect);
  }
  const auto n = static_cast<std::int64_t>(rows_.size());
  const Tensor row_ids = Tensor::from_blob(rows_.data(), {n}, DType::Int64);
  const Tensor rows = output_rows_.forward(row_ids);            // [n, dim]
  const Tensor scores = nn::functional::linear(rows, hidden_);  // [n, 1]
  const Tensor labels = Tensor::from_blob(labels_.data(), {n, 1}, DType::Float32);
  nn::LossOutput bce = nn::functional::binary_cross_entropy_with_logits(
      scores, labels, nn::BCEWithLogitsLossOptions().reduction(nn::Reduction::Sum));
  const auto loss = static_cast<double>(bce.loss.item());
  scale(bce.grad_input, lr);
  nn::LinearGrad g =
      nn::functional::linear_backward(rows, hidden_, bce.grad_input, /*has_bias=*/false);
  optim::fused_backward_step(output_rows_, row_ids, g.input, *sgd_);
  copy_into(g.weight, grad);  // [1, dim]
  return loss;
}

}  // namespace embedkit::models::training
