#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/models/negative_sampler.hpp"
#include "embedkit/models/subsampling.hpp"

namespace {

using embedkit::models::keep_probability;
using embedkit::models::NegativeSampler;

TEST(Subsampling, KeepProbabilityIsWord2vecFormula) {
  // f = count / total; keep = (sqrt(f / s) + 1) * s / f, capped at 1.
  const double s = 1e-3;
  const std::int64_t total = 1000000;
  // f = 0.01: (sqrt(10) + 1) * 0.1 = 0.41622776601683794.
  EXPECT_NEAR(keep_probability(10000, total, s), (std::sqrt(10.0) + 1.0) * 0.1, 1e-15);
  // f = 0.1 with s = 1e-4: (sqrt(1000) + 1) * 1e-3.
  EXPECT_NEAR(keep_probability(100000, total, 1e-4), (std::sqrt(1000.0) + 1.0) * 1e-3, 1e-15);
  // Rare words are always kept; sample 0 turns subsampling off.
  EXPECT_EQ(keep_probability(5, total, s), 1.0);
  EXPECT_EQ(keep_probability(500000, total, 0.0), 1.0);
  // Monotone: more frequent, less kept.
  EXPECT_GT(keep_probability(5000, total, s), keep_probability(50000, total, s));
}

TEST(NegativeSampler, AliasTableMatchesUnigramToThePower) {
  const std::vector<std::int64_t> counts = {1000, 300, 300, 50, 7, 1, 0, 12345};
  const NegativeSampler sampler(counts, 0.75);
  double sum = 0;
  for (auto c : counts) sum += std::pow(static_cast<double>(c), 0.75);
  double total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    EXPECT_NEAR(sampler.probability(i), std::pow(static_cast<double>(counts[i]), 0.75) / sum, 1e-9)
        << "word " << i;
    total += sampler.probability(i);
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
  // Draws follow the table (a zero-count word is never drawn).
  std::mt19937_64 rng(11);
  std::vector<int> hits(counts.size(), 0);
  const int n = 200000;
  for (int k = 0; k < n; ++k) ++hits[static_cast<std::size_t>(sampler.sample(rng()))];
  EXPECT_EQ(hits[6], 0);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double p = sampler.probability(i);
    EXPECT_NEAR(hits[i] / static_cast<double>(n), p, 5 * std::sqrt(p * (1 - p) / n) + 1e-9);
  }
}

TEST(NegativeSampler, PowersBeyondDoublesRangeKeepTheirShares) {
  // 1000^150 overflows double: the shares were NaN and the table drew uniformly. The true
  // shares put all but ~1e-45 of the mass on the largest count (power 150), or on the smallest
  // (power -150, where every count's power underflows to 0).
  const std::vector<std::int64_t> counts = {1000, 300, 1000, 50, 7};
  const NegativeSampler high(counts, 150.0);
  EXPECT_NEAR(high.probability(0), 0.5, 1e-9);
  EXPECT_NEAR(high.probability(2), 0.5, 1e-9);
  EXPECT_NEAR(high.probability(1) + high.probability(3) + high.probability(4), 0.0, 1e-9);
  const NegativeSampler low(counts, -400.0);
  EXPECT_NEAR(low.probability(4), 1.0, 1e-9);
  // Moderate powers are unchanged: 2^1000 overflows only for the larger counts, and the
  // shares are still count^p / sum.
  const std::vector<std::int64_t> two = {4, 2};
  const NegativeSampler mid(two, 600.0);  // 4^600 = 2^1200 overflows; share of 2: 2^-600
  EXPECT_NEAR(mid.probability(0), 1.0, 1e-12);
  EXPECT_THROW(NegativeSampler(std::vector<std::int64_t>{3, 0}, -400.0), embedkit::ValueError);
  EXPECT_THROW(NegativeSampler(counts, std::nan("")), embedkit::ValueError);
}

TEST(NegativeSampler, RefusesEmptyOrZeroCounts) {
  EXPECT_THROW(NegativeSampler(std::vector<std::int64_t>{}), embedkit::ValueError);
  EXPECT_THROW(NegativeSampler(std::vector<std::int64_t>{0, 0}), embedkit::ValueError);
}

}  // namespace
