// Negative sampling and hierarchical softmax as word2vec.c and fastText train them: for each
// (output row, label) pair in turn, f = row . hidden, g = lr (label - sigmoid(f)) with a tabulated
// sigmoid (sigmoid_table.hpp), step += g row, then row += g hidden. A pair sees the rows the pairs
// before it moved. The loss is -log sigmoid(+-f) summed over the pairs.
//
// Arguments beyond +-kMaxExp are saturated (the gradient taken as 0 or +-1 without a look-up).
// Unlike word2vec.c, hierarchical softmax saturates the same way instead of skipping the node, so
// a node that is confidently wrong still gets corrected. A NaN score moves nothing and goes into
// the loss, for the caller's divergence check to report.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/binary_targets.hpp"
#include "models/output_loss.hpp"

namespace embedkit::models::training {

// The shared step of both: one binary logistic decision. Returns its loss.
double binary_logistic_update(const float* hidden, float* row, float label, float lr, float* step,
                              std::size_t dim);

class NegativeSamplingLoss final : public OutputLoss {
 public:
  // output: [rows, dim], one row per word (or label) the sampler draws.
  NegativeSamplingLoss(float* output, std::size_t dim, const NegativeSampler& sampler,
                       std::int64_t negative)
      : output_(output), dim_(dim), sampler_(sampler), negative_(negative) {}
  double update(const float* hidden, std::int64_t target, float lr, float* step,
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
  double update(const float* hidden, std::int64_t target, float lr, float* step,
                embedkit::detail::SplitMix64& rng) override;

 private:
  float* output_;
  std::size_t dim_;
  const HuffmanTree& tree_;
  PositiveBranch positive_;
};

}  // namespace embedkit::models::training
