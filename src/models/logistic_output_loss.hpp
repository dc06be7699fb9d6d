// Negative sampling and hierarchical softmax as word2vec.c and fastText train them: for each
// (output row, label) pair in turn, f = row . hidden, g = lr (label - sigmoid(f)) with a tabulated
// sigmoid (sigmoid_table.hpp), grad -= g row, then row += g hidden. A pair sees the rows the
// pairs before it moved. The loss is -log sigmoid(+-f) summed over the pairs.
//
// Arguments beyond +-kMaxExp are saturated (the gradient taken as 0 or +-1 without a look-up).
// Unlike word2vec.c, hierarchical softmax saturates the same way instead of skipping the node, so
// a node that is confidently wrong still gets corrected. A NaN score moves nothing and goes into
// the loss, for the caller's divergence check to report.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "models/binary_targets.hpp"
#include "models/output_loss.hpp"
#include "models/sigmoid_table.hpp"
#include "models/vector_ops.hpp"

namespace embedkit::models::training {

// One binary logistic decision's gradient coefficient from its score f = hidden . row: returns
// g = label - sigmoid(f) (the descent direction of the loss along the score) and sets `loss` to
// -log sigmoid(+-f).
inline float logistic_coefficient(float f, float label, double& loss) {
  const SigmoidTable& table = sigmoid_table();
  // Saturated arguments need no table. What is left is in [-kMaxExp, kMaxExp] or NaN, and a NaN
  // must not be converted to an index (undefined behaviour).
  if (f > kMaxExp) {
    loss = label > 0 ? 0.0 : static_cast<double>(f);
    return label - 1.0f;
  }
  if (f < -kMaxExp) {
    loss = label > 0 ? static_cast<double>(-f) : 0.0;
    return label;
  }
  if (!std::isnan(f)) {
    const std::size_t i = SigmoidTable::index(f);
    loss = label > 0 ? table.neg_log_sigmoid[i] : table.neg_log_sigmoid[kSigmoidTableSize - i];
    return label - table.sigmoid[i];
  }
  loss = static_cast<double>(f);
  return 0.0f;
}

// The step of a decision whose coefficient g is known (already times the learning rate): the
// input's gradient gains -g row, and the row moves by g hidden.
inline void logistic_step(const float* hidden, float* row, float g, float* grad, std::size_t dim) {
  // The loss falls along +g (the descent direction): the gradient is -g row.
  axpy(-g, row, grad, dim);
  axpy(g, hidden, row, dim);
}

// The shared step of both losses below: one binary logistic decision. Returns its loss. Inline:
// it is the innermost loop of word2vec's training: a call per output row cost 2% more
// instructions.
inline double binary_logistic_update(const float* hidden, float* row, float label, float lr,
                                     float* grad, std::size_t dim) {
  double loss;
  const float g = logistic_coefficient(dot(hidden, row, dim), label, loss) * lr;
  logistic_step(hidden, row, g, grad, dim);
  return loss;
}

class NegativeSamplingLoss final : public OutputLoss {
 public:
  // output: [rows, dim], one row per word (or label) the sampler draws.
  NegativeSamplingLoss(float* output, std::size_t dim, const NegativeSampler& sampler,
                       std::int64_t negative)
      : output_(output), dim_(dim), sampler_(sampler), negative_(negative) {}
  double update(const float* hidden, std::int64_t target, float lr, float* grad,
                embedkit::detail::SplitMix64& rng) override;

 private:
  float* output_;
  std::size_t dim_;
  const NegativeSampler& sampler_;
  std::int64_t negative_;
};

class HierarchicalSoftmaxLoss final : public OutputLoss {
 public:
  // output: [tree.inner_nodes(), dim], one row per inner node.
  HierarchicalSoftmaxLoss(float* output, std::size_t dim, const HuffmanTree& tree,
                          PositiveBranch positive)
      : output_(output), dim_(dim), tree_(tree), positive_(positive) {}
  double update(const float* hidden, std::int64_t target, float lr, float* grad,
                embedkit::detail::SplitMix64& rng) override;

 private:
  float* output_;
  std::size_t dim_;
  const HuffmanTree& tree_;
  PositiveBranch positive_;
};

}  // namespace embedkit::models::training
