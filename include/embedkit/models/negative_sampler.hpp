// Draws negative samples for word2vec from the unigram distribution raised to a power (0.75 in
// word2vec), by Walker's alias method: O(1) per draw from two arrays of V entries (8 bytes per
// word), where word2vec.c's 100M-entry table costs 400 MB and only approximates the
// distribution to 1e-8.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace embedkit::models {

class NegativeSampler {
 public:
  NegativeSampler() = default;
  // Throws ValueError when counts is empty, a count is negative, all are zero, the power is not
  // finite, or a count is 0 with a negative power. Powers whose terms overflow or underflow
  // double keep their shares (counts are then taken relative to the largest or smallest).
  explicit NegativeSampler(std::span<const std::int64_t> counts, double power = 0.75);

  // One draw from 64 random bits (the high 32 pick a column, the low 32 the coin).
  std::int32_t sample(std::uint64_t bits) const {
    const auto column = static_cast<std::uint32_t>(((bits >> 32) * size_) >> 32);
    const auto coin = static_cast<std::uint32_t>(bits);
    return coin < threshold_[column] ? static_cast<std::int32_t>(column) : alias_[column];
  }
  // The probability of drawing `id` (for tests).
  double probability(std::size_t id) const;
  std::size_t size() const { return size_; }

 private:
  std::vector<std::uint32_t> threshold_;  // keep the column when coin < threshold (of 2^32)
  std::vector<std::int32_t> alias_;
  std::uint64_t size_ = 0;
};

}  // namespace embedkit::models
