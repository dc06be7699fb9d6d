#include "embedkit/models/huffman.hpp"

#include <algorithm>
#include <queue>
#include <utility>

#include "embedkit/core/error.hpp"

namespace embedkit::models {

HuffmanTree::HuffmanTree(std::span<const std::int64_t> counts) {
  const std::size_t v = counts.size();
  offsets_.assign(v + 1, 0);
  if (v == 0) return;
  if (v == 1) {
    codes_ = {0};
    points_ = {0};
    offsets_[1] = 1;
    inner_nodes_ = 1;
    return;
  }
  // Nodes 0..v-1 are leaves, v..2v-2 inner nodes. Ties between equal weights go to the lower node
  // id, so the tree does not depend on the priority queue's implementation.
  using Item = std::pair<std::int64_t, std::size_t>;  // (weight, node)
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  for (std::size_t i = 0; i < v; ++i) heap.emplace(counts[i], i);
  std::vector<std::size_t> parent(2 * v - 1, 0);
  std::vector<std::uint8_t> branch(2 * v - 1, 0);
  for (std::size_t next = v; next < 2 * v - 1; ++next) {
    const Item a = heap.top();
    heap.pop();
    const Item b = heap.top();
    heap.pop();
    parent[a.second] = next;
    branch[a.second] = 0;
    parent[b.second] = next;
    branch[b.second] = 1;
    heap.emplace(a.first + b.first, next);
  }
  const std::size_t root = 2 * v - 2;
  inner_nodes_ = v - 1;
  std::vector<std::uint8_t> code;
  std::vector<std::int32_t> path;
  for (std::size_t w = 0; w < v; ++w) {
    code.clear();
    path.clear();
    for (std::size_t node = w; node != root; node = parent[node]) {
      code.push_back(branch[node]);
      path.push_back(static_cast<std::int32_t>(parent[node] - v));
    }
    // Collected leaf to root; stored root first.
    codes_.insert(codes_.end(), code.rbegin(), code.rend());
    points_.insert(points_.end(), path.rbegin(), path.rend());
    offsets_[w + 1] = codes_.size();
  }
}

}  // namespace embedkit::models
