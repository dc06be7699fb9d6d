// kernels::cpu::squared_row_norms against its ref twin, bitwise, under every instruction set the
// CPU has: row counts around the fast path's groups of sixteen, widths around its steps of four
// columns, values whose sums depend on the order they are added in, and the finiteness rule the
// callers rely on (a sum is finite exactly when its row's values are).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "kernel_test_support.hpp"
#include "kernels/cpu/row_norms.hpp"
#include "kernels/ref/row_norms_ref.hpp"

namespace embedkit::kernels::test {
namespace {

using RowNorms = KernelTest;

constexpr std::int64_t kCounts[] = {0, 1, 15, 16, 17, 31, 32, 33, 48, 257};
constexpr std::int64_t kDims[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 100, 255, 256, 301};

// Exactly count * dim values (no slack, so ASan sees a read past the last row), as bits: sums
// compare bitwise, NaNs included.
void expect_same_bits(const std::vector<float>& m, std::int64_t count, std::int64_t dim,
                      const std::string& what) {
  std::vector<double> fast(static_cast<std::size_t>(count) + 1, -1.0);
  std::vector<double> slow(fast.size(), -1.0);
  cpu::squared_row_norms(m.data(), count, dim, fast.data());
  ref::squared_row_norms(m.data(), count, dim, slow.data());
  for (std::int64_t i = 0; i < count; ++i) {
    ASSERT_EQ(std::bit_cast<std::uint64_t>(fast[static_cast<std::size_t>(i)]),
              std::bit_cast<std::uint64_t>(slow[static_cast<std::size_t>(i)]))
        << what << ": count " << count << " dim " << dim << " row " << i;
  }
  EXPECT_EQ(fast.back(), -1.0) << "wrote past the last row's sum";
}

// Values spread over the whole float range (subnormals to 2^127, both signs), so that each
// sum's rounding depends on what was added before.
std::vector<float> wide_values(std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> exponent(-149, 127);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) {
    x = std::ldexp(mantissa(rng), exponent(rng)) * (rng() % 2 ? 1.0f : -1.0f);
  }
  return v;
}

TEST_P(RowNorms, MatchRefBitwise) {
  for (const std::int64_t count : kCounts) {
    for (const std::int64_t dim : kDims) {
      const auto seed = static_cast<std::uint64_t>(count * 1000 + dim);
      expect_same_bits(random_values<float>(count * dim, seed), count, dim, "normal");
      expect_same_bits(wide_values(count * dim, seed), count, dim, "wide");
    }
  }
}

// The order is the contract: 2^27 squared is 2^54, past which adding 1 rounds away. A row of
// ones then 2^27 keeps its ones (they are summed first); 2^27 then ones loses every one. An
// implementation summing in any other order gets one of the two rows wrong.
TEST_P(RowNorms, AddInAscendingColumnOrder) {
  for (const std::int64_t dim : {5, 8, 13, 40}) {
    std::vector<float> m(static_cast<std::size_t>(33 * dim), 1.0f);
    for (std::int64_t i = 0; i < 33; ++i) {
      const std::int64_t big = i % 2 == 0 ? 0 : dim - 1;          // first column, or last
      m[static_cast<std::size_t>(i * dim + big)] = 134217728.0f;  // 2^27
    }
    std::vector<double> sums(33);
    cpu::squared_row_norms(m.data(), 33, dim, sums.data());
    for (std::int64_t i = 0; i < 33; ++i) {
      const double expected =
          i % 2 == 0 ? std::ldexp(1.0, 54) : std::ldexp(1.0, 54) + static_cast<double>(dim - 1);
      EXPECT_EQ(sums[static_cast<std::size_t>(i)], expected) << "dim " << dim << " row " << i;
    }
  }
}

TEST_P(RowNorms, SumIsFiniteExactlyWhenTheRowIs) {
  const std::int64_t count = 35;
  const std::int64_t dim = 21;
  const float max = std::numeric_limits<float>::max();
  const float specials[] = {std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  for (const float bad : specials) {
    for (const std::int64_t column : {0, 3, 4, 19, 20}) {
      std::vector<float> m(static_cast<std::size_t>(count * dim), max);  // finite, the largest
      for (std::int64_t i = 0; i < count; i += 3)
        m[static_cast<std::size_t>(i * dim + column)] = bad;
      std::vector<double> sums(static_cast<std::size_t>(count));
      cpu::squared_row_norms(m.data(), count, dim, sums.data());
      for (std::int64_t i = 0; i < count; ++i) {
        EXPECT_EQ(std::isfinite(sums[static_cast<std::size_t>(i)]), i % 3 != 0)
            << "row " << i << " column " << column << " value " << bad;
      }
      expect_same_bits(m, count, dim, "non-finite");
    }
  }
}

// The inverse norms, from the ref twin's sums and the formula the queries scale by, over blocks
// of 256 rows and past them; the first non-finite row stops it, named, with the rows before it
// written and none after.
TEST_P(RowNorms, InverseNormsAreTheFormulaAndStopAtTheFirstNonFiniteRow) {
  for (const std::int64_t count : {0, 1, 17, 255, 256, 257, 600}) {
    for (const std::int64_t dim : {1, 13, 256}) {
      std::vector<float> m = random_values<float>(count * dim, static_cast<std::uint64_t>(count));
      if (count > 3) std::fill_n(m.begin() + 3 * dim, dim, 0.0f);  // an all-zero row: 0
      std::vector<double> sums(static_cast<std::size_t>(count));
      ref::squared_row_norms(m.data(), count, dim, sums.data());
      std::vector<float> inverse(static_cast<std::size_t>(count) + 1, -1.0f);
      ASSERT_EQ(cpu::inverse_row_norms(m.data(), count, dim, inverse.data()), count);
      for (std::int64_t i = 0; i < count; ++i) {
        const double s = sums[static_cast<std::size_t>(i)];
        const float want = s > 0.0 ? static_cast<float>(1.0 / std::sqrt(s)) : 0.0f;
        ASSERT_EQ(std::bit_cast<std::uint32_t>(inverse[static_cast<std::size_t>(i)]),
                  std::bit_cast<std::uint32_t>(want))
            << "count " << count << " dim " << dim << " row " << i;
      }
      EXPECT_EQ(inverse.back(), -1.0f) << "wrote past the last row";
      if (count < 600) continue;  // rows 260 and 270, in the second block
      m[static_cast<std::size_t>(260 * dim + dim - 1)] = std::numeric_limits<float>::quiet_NaN();
      m[static_cast<std::size_t>(270 * dim)] = std::numeric_limits<float>::infinity();
      std::fill(inverse.begin(), inverse.end(), -1.0f);
      EXPECT_EQ(cpu::inverse_row_norms(m.data(), count, dim, inverse.data()), 260);
      EXPECT_NE(inverse[259], -1.0f);
      EXPECT_EQ(inverse[260], -1.0f);
      EXPECT_EQ(inverse[261], -1.0f);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, RowNorms, ::testing::ValuesIn(all_configs()), config_name);

}  // namespace
}  // namespace embedkit::kernels::test
