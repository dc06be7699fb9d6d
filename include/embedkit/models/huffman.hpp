// The Huffman tree of hierarchical softmax: each word's path from the root to its leaf, as the
// inner nodes passed (rows of the output table) and the branch taken at each (0 or 1). Frequent
// words get short paths, so the expected cost of a prediction is about the entropy of the
// unigram distribution instead of log2(V).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace embedkit::models {

class HuffmanTree {
 public:
  // counts: one per word (any order, each >= 1). Ties are broken by word id, so the tree is the
  // same on every platform. A single word gets a one-node path (inner node 0, code 0).
  explicit HuffmanTree(std::span<const std::int64_t> counts);

  std::size_t size() const { return offsets_.size() - 1; }
  // Number of inner nodes (rows of the output table hierarchical softmax needs): max(V - 1, 1).
  std::size_t inner_nodes() const { return inner_nodes_; }
  std::span<const std::uint8_t> code(std::size_t word) const {
    return {codes_.data() + offsets_[word], offsets_[word + 1] - offsets_[word]};
  }
  // Inner-node ids along the path, root first (the root is inner_nodes() - 1).
  std::span<const std::int32_t> points(std::size_t word) const {
    return {points_.data() + offsets_[word], offsets_[word + 1] - offsets_[word]};
  }

 private:
  std::vector<std::uint8_t> codes_;
  std::vector<std::int32_t> points_;
  std::vector<std::size_t> offsets_;
  std::size_t inner_nodes_ = 0;
};

}  // namespace embedkit::models
