#include "models/layered_input_bag.hpp"

#include <algorithm>
#include <optional>

#include "embedkit/optim/fused_backward.hpp"

namespace embedkit::models::training {

namespace {

const Tensor& single_bag_offsets() {
  static const Tensor zero = Tensor::from_vector(std::vector<std::int64_t>{0});
  return zero;
}

}  // namespace

LayeredInputBag::LayeredInputBag(const Tensor& table)
    : bag_(nn::EmbeddingBagOptions(table.size(0), table.size(1))
               .mode(nn::BagMode::Mean)
               .weight(table)),
      sgd_(std::make_unique<optim::SGD>(
          std::vector<optim::Parameter>{{"input.weight", table, std::nullopt}},
          optim::SGDOptions(1.0))),
      hidden_(Tensor::empty({1, table.size(1)})),
      grad_(Tensor::empty({1, table.size(1)})) {}

const float* LayeredInputBag::mean(std::span<const std::int64_t> rows) {
  rows_.assign(rows.begin(), rows.end());
  ids_ = Tensor::from_blob(rows_.data(), {static_cast<std::int64_t>(rows_.size())}, DType::Int64);
  nn::functional::embedding_bag_into(ids_, bag_.weight(), single_bag_offsets(), hidden_,
                                     nn::EmbeddingBagFuncOptions().mode(nn::BagMode::Mean));
  return hidden_.data<float>();
}

void LayeredInputBag::update(const float* grad) {
  std::copy_n(grad, grad_.numel(), grad_.data<float>());
  optim::fused_backward_step(bag_, ids_, single_bag_offsets(), grad_, *sgd_);
}

}  // namespace embedkit::models::training
