// InputBag (input_bag.hpp) built from embedkit's layers, as the text classifier trains: the mean
// by nn::functional::embedding_bag_into (mode mean), the update by optim::fused_backward_step
// with an SGD of rate 1 (the gradient already holds the learning rate), which shares the gradient
// among the rows (each moves by -grad / rows) and touches only the bag's rows.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/sgd.hpp"
#include "models/input_bag.hpp"

namespace embedkit::models::training {

class LayeredInputBag final : public InputBag {
 public:
  // table: [rows, dim] float32, shared with the model (updated in place).
  explicit LayeredInputBag(const Tensor& table);
  const float* mean(std::span<const std::int64_t> rows) override;
  void update(const float* grad) override;

 private:
  nn::EmbeddingBag bag_;
  std::unique_ptr<optim::SGD> sgd_;
  std::vector<std::int64_t> rows_;
  Tensor ids_;     // rows_ as a tensor, for mean() and update()
  Tensor hidden_;  // [1, dim]
  Tensor grad_;    // [1, dim]
};

}  // namespace embedkit::models::training
