// core/splitmix64.hpp: the library's one small generator and hash, checked against the reference
// outputs of Vigna's splitmix64.c, so that every user (word2vec, the classifier, UnknownIds::hash,
// the CUDA row cache) draws the documented numbers.
#include <gtest/gtest.h>

#include <cstdint>

#include "core/splitmix64.hpp"

namespace {

using embedkit::detail::kSplitMix64Gamma;
using embedkit::detail::SplitMix64;
using embedkit::detail::splitmix64_finalize;
using embedkit::detail::splitmix64_hash;

TEST(SplitMix64, ReferenceSequenceFromStateZero) {
  SplitMix64 rng{0};
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(rng.next(), 0x06c45d188009454fULL);
  EXPECT_EQ(rng.next(), 0xf88bb8a8724c81ecULL);
}

TEST(SplitMix64, HashIsOneStepAndFinalizeIsTheMixerAlone) {
  for (std::uint64_t x : {0ULL, 1ULL, 12345ULL, ~0ULL}) {
    SplitMix64 rng{x};
    EXPECT_EQ(splitmix64_hash(x), rng.next());
    EXPECT_EQ(splitmix64_hash(x), splitmix64_finalize(x + kSplitMix64Gamma));
  }
  EXPECT_EQ(splitmix64_finalize(0), 0u);  // the mixer alone fixes 0
  static_assert(splitmix64_hash(0) == 0xe220a8397b1dcdafULL);
}

// The classifier draws hash((seed + k) * gamma), k = 1, 2, ...: SplitMix64 from seed * gamma.
TEST(SplitMix64, StartingAtSeedTimesGammaDrawsTheHashOfMultiplesOfGamma) {
  const std::uint64_t seed = 0x1234567887654321ULL;
  SplitMix64 rng{seed * kSplitMix64Gamma};
  for (std::uint64_t k = 0; k < 5; ++k) {
    EXPECT_EQ(rng.next(), splitmix64_finalize((seed + k + 1) * kSplitMix64Gamma));
  }
}

TEST(SplitMix64, UniformFloatIsInTheUnitIntervalWith24Bits) {
  SplitMix64 rng{7};
  for (int i = 0; i < 10000; ++i) {
    const float u = rng.uniform_float();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    ASSERT_EQ(u * 0x1.0p24f, static_cast<float>(static_cast<std::uint32_t>(u * 0x1.0p24f)));
  }
}

}  // namespace
