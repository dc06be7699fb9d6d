// The binary decisions a binary logistic output loss trains for one prediction of `target`, as
// (output row, label) pairs, in the order they are trained:
//   negative sampling        (target, 1), then `negative` draws from the sampler, each (row, 0),
//                            a draw equal to the target skipped (word2vec.c, fastText)
//   hierarchical softmax     one pair per inner node on the target's Huffman path, root first,
//                            labelled by the branch the path takes there
#pragma once

#include <cstdint>

#include "core/splitmix64.hpp"
#include "embedkit/models/huffman.hpp"
#include "embedkit/models/negative_sampler.hpp"

namespace embedkit::models::training {

template <class Visit>
void for_each_sampled_target(std::int64_t target, const NegativeSampler& sampler,
                             std::int64_t negative, embedkit::detail::SplitMix64& rng,
                             Visit&& visit) {
  visit(target, 1.0f);
  for (std::int64_t k = 0; k < negative; ++k) {
    const std::int64_t row = sampler.sample(rng.next());
    if (row == target) continue;
    visit(row, 0.0f);
  }
}

// Which branch is labelled 1: word2vec.c trains label 1 - code (branch 0 is the "positive"
// side), fastText and the text classifier label = code. Both give the same model up to the sign
// of each inner node's row; each keeps its own so that its results do not move.
enum class PositiveBranch { Zero, One };

template <class Visit>
void for_each_path_target(std::int64_t target, const HuffmanTree& tree, PositiveBranch positive,
                          Visit&& visit) {
  const auto code = tree.code(static_cast<std::size_t>(target));
  const auto points = tree.points(static_cast<std::size_t>(target));
  for (std::size_t d = 0; d < code.size(); ++d) {
    const auto bit = static_cast<float>(code[d]);
    visit(static_cast<std::int64_t>(points[d]), positive == PositiveBranch::One ? bit : 1.0f - bit);
  }
}

}  // namespace embedkit::models::training
