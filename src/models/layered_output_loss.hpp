// Softmax, negative sampling and hierarchical softmax built from embedkit's own layers, as the
// text classifier trains them: every score of a prediction is computed before any row moves,
// exactly (no sigmoid table), and the output rows are stepped by optim::SGD.
//
//   softmax   logits = W h (nn::functional::linear over the whole output table), cross entropy;
//             W's gradient from linear_backward, one dense SGD step
//   ns, hs    the (row, label) pairs of binary_targets.hpp, labelled as fastText labels them
//             (PositiveBranch::One), gathered as rows R of an Embedding and scored as
//             linear(R, weight = h), so its backward gives both R's gradient (g h^T) and h's
//             (R^T g); BCE with logits summed over the pairs; R stepped sparsely
//             (optim::fused_backward_step: a row drawn twice gets both gradients)
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/optim/sgd.hpp"
#include "models/binary_targets.hpp"
#include "models/output_loss.hpp"

namespace embedkit::models::training {

class LayeredSoftmaxLoss final : public OutputLoss {
 public:
  // output: [labels, dim], shared with the model (updated in place).
  explicit LayeredSoftmaxLoss(const Tensor& output);
  double update(const float* hidden, std::int64_t target, float lr, float* grad,
                embedkit::detail::SplitMix64& rng) override;

 private:
  Tensor output_;
  std::unique_ptr<optim::SGD> sgd_;
  Tensor hidden_;  // [1, dim]
  Tensor target_;  // [1] int64
};

// Negative sampling (sampler given) or hierarchical softmax (tree given).
class LayeredLogisticLoss final : public OutputLoss {
 public:
  // output: [labels, dim] for negative sampling, [tree->inner_nodes(), dim] for hierarchical
  // softmax; shared with the model.
  LayeredLogisticLoss(const Tensor& output, const NegativeSampler& sampler, std::int64_t negative);
  LayeredLogisticLoss(const Tensor& output, const HuffmanTree& tree);
  double update(const float* hidden, std::int64_t target, float lr, float* grad,
                embedkit::detail::SplitMix64& rng) override;

 private:
  explicit LayeredLogisticLoss(const Tensor& output);

  const NegativeSampler* sampler_ = nullptr;
  std::int64_t negative_ = 0;
  const HuffmanTree* tree_ = nullptr;
  nn::Embedding output_rows_;
  std::unique_ptr<optim::SGD> sgd_;
  Tensor hidden_;  // [1, dim]
  std::vector<std::int64_t> rows_;
  std::vector<float> labels_;
};

}  // namespace embedkit::models::training
