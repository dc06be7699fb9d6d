// The matrix product and the dot products of kernels/cpu against their kernels/ref twins, bit for
// bit: the blocked gemm on shapes around every block edge (the 4 x 8 register tile, the 256-deep
// k block, the 512-wide column block) with every operand transposed, and both dot products on
// lengths around their vector widths, on plain and on hostile values (signed zeros, subnormals,
// huge magnitudes that overflow, infinities, NaN).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernel_test_support.hpp"
#include "kernels/cpu/dot.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/ref/dot_ref.hpp"
#include "kernels/ref/gemm_ref.hpp"

namespace embedkit::kernels {
namespace {

using test::bitwise_equal;
using test::random_values;

// N(0, 1) values with about one in eight replaced by a value that rounding or ordering mistakes
// show up on. Sums that meet both infinities are NaN on every order; the rest keep their bits.
std::vector<float> hostile_values(std::int64_t n, std::uint64_t seed) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const std::array<float, 8> specials = {
      0.0f, -0.0f, 1e-40f, -1e-40f, 3e38f, -3e38f, kInf, std::numeric_limits<float>::quiet_NaN()};
  std::vector<float> v = random_values<float>(n, seed);
  std::mt19937_64 rng(seed ^ 0x5eedU);
  std::uniform_int_distribution<std::size_t> pick(0, 8 * specials.size() - 1);
  for (float& x : v) {
    const std::size_t k = pick(rng);
    if (k < specials.size()) x = specials[k];
  }
  return v;
}

std::vector<float> values(std::int64_t n, std::uint64_t seed, bool hostile) {
  return hostile ? hostile_values(n, seed) : random_values<float>(n, seed);
}

// Checks every (m, n, k) combination with the four transpose combinations; returns the count.
int check_gemm_shapes(const std::vector<std::int64_t>& ms, const std::vector<std::int64_t>& ns,
                      const std::vector<std::int64_t>& ks, bool hostile, std::uint64_t seed) {
  int checked = 0;
  for (std::int64_t m : ms) {
    for (std::int64_t n : ns) {
      for (std::int64_t k : ks) {
        for (int t = 0; t < 4; ++t) {
          const bool a_t = (t & 1) != 0;
          const bool b_t = (t & 2) != 0;
          SCOPED_TRACE(testing::Message() << "m=" << m << " n=" << n << " k=" << k << " a_t=" << a_t
                                          << " b_t=" << b_t << " hostile=" << hostile);
          // A transposed operand is stored transposed and read through swapped strides.
          const std::vector<float> a = values(m * k, ++seed, hostile);
          const std::vector<float> b = values(k * n, ++seed, hostile);
          const MatrixView av = a_t ? MatrixView{a.data(), 1, m} : MatrixView{a.data(), k, 1};
          const MatrixView bv = b_t ? MatrixView{b.data(), 1, k} : MatrixView{b.data(), n, 1};
          // Start from a non-zero C: the product accumulates into it.
          const std::vector<float> c0 = values(m * n, ++seed, hostile);
          std::vector<float> fast = c0;
          std::vector<float> slow = c0;
          cpu::gemm_accumulate(m, n, k, av, bv, fast.data(), n);
          ref::gemm_accumulate(m, n, k, av, bv, slow.data(), n);
          EXPECT_TRUE(bitwise_equal(slow, fast));
          ++checked;
        }
      }
    }
  }
  return checked;
}

TEST(Gemm, BlockedEqualsNaiveBitwise) {
  for (const bool hostile : {false, true}) {
    // Row tiles (4), column panels (8) and k blocks (256), including the paths for fewer than 4
    // rows or fewer than 4 k, which read B in place.
    EXPECT_EQ(check_gemm_shapes({0, 1, 3, 4, 5, 9, 33}, {1, 7, 8, 9, 17},
                                {0, 1, 3, 5, 255, 256, 257, 600}, hostile, 11),
              7 * 5 * 8 * 4);
    // Column blocks (512).
    EXPECT_EQ(check_gemm_shapes({2, 5, 9}, {511, 512, 513, 1030}, {1, 7, 300}, hostile, 12),
              3 * 4 * 3 * 4);
  }
}

// A C row with a leading dimension wider than n: the columns past n are never touched.
TEST(Gemm, LeavesColumnsPastNAlone) {
  const std::int64_t m = 6, n = 9, k = 40, ldc = 13;
  const std::vector<float> a = random_values<float>(m * k, 21);
  const std::vector<float> b = random_values<float>(k * n, 22);
  const std::vector<float> c0 = random_values<float>(m * ldc, 23);
  std::vector<float> fast = c0;
  std::vector<float> slow = c0;
  cpu::gemm_accumulate(m, n, k, {a.data(), k, 1}, {b.data(), n, 1}, fast.data(), ldc);
  ref::gemm_accumulate(m, n, k, {a.data(), k, 1}, {b.data(), n, 1}, slow.data(), ldc);
  EXPECT_TRUE(bitwise_equal(slow, fast));
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = n; j < ldc; ++j) {
      EXPECT_EQ(test::bits_of(fast[static_cast<std::size_t>(i * ldc + j)]),
                test::bits_of(c0[static_cast<std::size_t>(i * ldc + j)]));
    }
  }
}

const std::vector<std::int64_t>& dot_lengths() {
  static const std::vector<std::int64_t> lengths = [] {
    std::vector<std::int64_t> l;
    for (std::int64_t n = 0; n <= 40; ++n) l.push_back(n);
    for (std::int64_t n : {63, 64, 65, 100, 255, 256, 257, 300, 1000, 4099}) l.push_back(n);
    return l;
  }();
  return lengths;
}

// dot_ascending is one element of the product started from a zero C: the recommender's
// predictions are that element.
TEST(Dot, AscendingEqualsOneElementOfTheReferenceProduct) {
  std::uint64_t seed = 31;
  for (const bool hostile : {false, true}) {
    for (const std::int64_t n : dot_lengths()) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " hostile=" << hostile);
      const std::vector<float> a = values(n, ++seed, hostile);
      const std::vector<float> b = values(n, ++seed, hostile);
      std::vector<float> expected = {0.0f};
      ref::gemm_accumulate(1, 1, n, {a.data(), n, 1}, {b.data(), 1, 1}, expected.data(), 1);
      EXPECT_TRUE(bitwise_equal(expected, {cpu::dot_ascending(a.data(), b.data(), n)}));
    }
  }
}

TEST(Dot, EightLanesEqualsItsReference) {
  std::uint64_t seed = 41;
  for (const bool hostile : {false, true}) {
    for (const std::int64_t n : dot_lengths()) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " hostile=" << hostile);
      const std::vector<float> a = values(n, ++seed, hostile);
      const std::vector<float> b = values(n, ++seed, hostile);
      EXPECT_TRUE(bitwise_equal(std::vector<float>{ref::dot_eight_lanes(a.data(), b.data(), n)},
                                {cpu::dot_eight_lanes(a.data(), b.data(), n)}));
    }
  }
}

// The two orders are different functions: a test that could not tell them apart could not
// catch a caller switched from one to the other.
TEST(Dot, TheTwoOrdersDifferOnSomeInput) {
  // 1e8 + 1 rounds to 1e8 in float32: the ascending sum loses the ones that the eight-lane sum
  // keeps in lanes of their own until the end.
  std::vector<float> a(16, 1.0f);
  a[0] = 1e8f;
  a[8] = -1e8f;
  const std::vector<float> ones(16, 1.0f);
  EXPECT_EQ(cpu::dot_ascending(a.data(), ones.data(), 16), 7.0f);
  EXPECT_EQ(cpu::dot_eight_lanes(a.data(), ones.data(), 16), 14.0f);
}

}  // namespace
}  // namespace embedkit::kernels
