#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>

#include "embedkit/models/huffman.hpp"

namespace {

using embedkit::models::HuffmanTree;

std::string code_string(const HuffmanTree& t, std::size_t w) {
  std::string s;
  for (auto c : t.code(w)) s += static_cast<char>('0' + c);
  return s;
}

void expect_valid(const std::vector<std::int64_t>& counts) {
  const HuffmanTree t(counts);
  ASSERT_EQ(t.size(), counts.size());
  ASSERT_EQ(t.inner_nodes(), counts.size() - 1);
  std::vector<std::string> codes;
  double kraft = 0;
  for (std::size_t w = 0; w < counts.size(); ++w) {
    codes.push_back(code_string(t, w));
    ASSERT_FALSE(codes.back().empty());
    kraft += std::ldexp(1.0, -static_cast<int>(codes.back().size()));
    // Paths start at the root and stay inside the output table.
    EXPECT_EQ(static_cast<std::size_t>(t.points(w)[0]), t.inner_nodes() - 1);
    for (auto p : t.points(w)) {
      EXPECT_GE(p, 0);
      EXPECT_LT(static_cast<std::size_t>(p), t.inner_nodes());
    }
  }
  // A full binary tree: Kraft's sum is exactly 1.
  EXPECT_DOUBLE_EQ(kraft, 1.0);
  // Prefix-free.
  for (std::size_t a = 0; a < codes.size(); ++a) {
    for (std::size_t b = 0; b < codes.size(); ++b) {
      if (a == b) continue;
      EXPECT_NE(codes[b].rfind(codes[a], 0), 0u) << codes[a] << " prefixes " << codes[b];
    }
  }
  // A more frequent word never has a longer code.
  for (std::size_t a = 0; a < counts.size(); ++a) {
    for (std::size_t b = 0; b < counts.size(); ++b) {
      if (counts[a] > counts[b]) {
        EXPECT_LE(codes[a].size(), codes[b].size());
      }
    }
  }
  // Optimal: the weighted length equals that of textbook Huffman merging.
  std::multiset<std::int64_t> heap(counts.begin(), counts.end());
  std::int64_t optimal = 0;
  while (heap.size() > 1) {
    const std::int64_t x = *heap.begin();
    heap.erase(heap.begin());
    const std::int64_t y = *heap.begin();
    heap.erase(heap.begin());
    optimal += x + y;
    heap.insert(x + y);
  }
  std::int64_t weighted = 0;
  for (std::size_t w = 0; w < counts.size(); ++w) {
    weighted += counts[w] * static_cast<std::int64_t>(codes[w].size());
  }
  EXPECT_EQ(weighted, optimal);
}

TEST(Huffman, TextbookExample) {
  // Weights 45, 13, 12, 16, 9, 5 (CLRS): code lengths 1, 3, 3, 3, 4, 4.
  const HuffmanTree t(std::vector<std::int64_t>{45, 13, 12, 16, 9, 5});
  const std::vector<std::size_t> lengths = {1, 3, 3, 3, 4, 4};
  for (std::size_t w = 0; w < lengths.size(); ++w) EXPECT_EQ(t.code(w).size(), lengths[w]);
  expect_valid({45, 13, 12, 16, 9, 5});
}

TEST(Huffman, ValidOnRandomAndDegenerateCounts) {
  expect_valid({7, 7});
  expect_valid({1, 1, 1, 1, 1, 1, 1, 1});
  expect_valid({1000, 1, 1, 1});
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::int64_t> counts(2 + rng() % 60);
    for (auto& c : counts) c = 1 + rng() % 1000;
    expect_valid(counts);
  }
}

TEST(Huffman, SingleWordGetsOneNode) {
  const HuffmanTree t(std::vector<std::int64_t>{3});
  EXPECT_EQ(t.inner_nodes(), 1u);
  ASSERT_EQ(t.code(0).size(), 1u);
  EXPECT_EQ(t.points(0)[0], 0);
}

}  // namespace
