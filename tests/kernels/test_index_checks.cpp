// kernels::cpu index checks (index_checks.hpp) against their ref twins under every instruction
// set the CPU has: the first bad id or offset is found wherever it sits (first, last, at and
// around the block edges, several in one block, in a later block) and never where there is none.
#include <gtest/gtest.h>

#include <limits>

#include "kernel_test_support.hpp"
#include "kernels/cpu/index_checks.hpp"
#include "kernels/ref/index_checks_ref.hpp"

namespace embedkit::kernels::test {
namespace {

using IndexChecks = KernelTest;

// Positions worth a bad value in an input of n: the ends, the block edges (the fast checks
// work in blocks of 256) and their neighbours.
std::vector<std::int64_t> positions(std::int64_t n) {
  std::vector<std::int64_t> p;
  for (std::int64_t q :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{255}, std::int64_t{256}, std::int64_t{257},
        std::int64_t{511}, std::int64_t{512}, n / 2, n - 2, n - 1}) {
    if (q >= 0 && q < n) p.push_back(q);
  }
  return p;
}

TEST_P(IndexChecks, FirstIdOutOfRangeMatchesRef) {
  const std::int64_t rows = 1000;
  for_each_type([&](auto, auto i) {
    using I = decltype(i);
    for (std::int64_t n : {0, 1, 7, 255, 256, 257, 1000, 4099}) {
      auto ids = random_ids<I>(n, rows, static_cast<std::uint64_t>(n) + 3);
      EXPECT_EQ(cpu::first_id_out_of_range(ids.data(), n, rows), -1) << n;
      // A table with no rows rejects every id.
      EXPECT_EQ(cpu::first_id_out_of_range(ids.data(), n, 0), n > 0 ? 0 : -1);
      const std::vector<I> bad_values = {static_cast<I>(-1), static_cast<I>(rows),
                                         std::numeric_limits<I>::min(),
                                         std::numeric_limits<I>::max()};
      for (std::int64_t at : positions(n)) {
        for (I bad : bad_values) {
          auto with_bad = ids;
          with_bad[static_cast<std::size_t>(at)] = bad;
          // A second bad id later on: the first one must be reported.
          if (at + 300 < n) with_bad[static_cast<std::size_t>(at + 300)] = static_cast<I>(-5);
          SCOPED_TRACE("n " + std::to_string(n) + " at " + std::to_string(at) + " value " +
                       std::to_string(bad));
          EXPECT_EQ(cpu::first_id_out_of_range(with_bad.data(), n, rows), at);
          EXPECT_EQ(ref::first_id_out_of_range(with_bad.data(), n, rows), at);
        }
      }
      // The last row is in range, one past it is not.
      if (n > 0) {
        auto edge = ids;
        edge.back() = static_cast<I>(rows - 1);
        EXPECT_EQ(cpu::first_id_out_of_range(edge.data(), n, rows), -1);
      }
    }
  });
}

TEST_P(IndexChecks, FirstBadBoundMatchesRef) {
  for (std::int64_t count : {0, 1, 2, 255, 256, 257, 258, 1000, 3001}) {
    std::vector<std::int64_t> bounds(static_cast<std::size_t>(count));
    for (std::int64_t b = 0; b < count; ++b) bounds[static_cast<std::size_t>(b)] = b * 3 / 2;
    const std::int64_t limit = count > 0 ? bounds.back() : 0;
    EXPECT_EQ(cpu::first_bad_bound(bounds.data(), count, limit), -1) << count;
    EXPECT_EQ(ref::first_bad_bound(bounds.data(), count, limit), -1) << count;
    for (std::int64_t at : positions(count)) {
      if (at == 0) continue;  // bounds[0] is the caller's to check
      for (int kind = 0; kind < 3; ++kind) {
        auto bad = bounds;
        const auto k = static_cast<std::size_t>(at);
        if (kind == 0) bad[k] = bad[k - 1] - 1;  // decreasing
        if (kind == 1) bad[k] = limit + 1;       // past the end (later ones then decrease)
        if (kind == 2) bad[k] = std::numeric_limits<std::int64_t>::min();
        SCOPED_TRACE("count " + std::to_string(count) + " at " + std::to_string(at) + " kind " +
                     std::to_string(kind));
        const std::int64_t expected = ref::first_bad_bound(bad.data(), count, limit);
        EXPECT_EQ(expected, at);
        EXPECT_EQ(cpu::first_bad_bound(bad.data(), count, limit), expected);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllLevels, IndexChecks, ::testing::ValuesIn(all_configs()), config_name);

}  // namespace
}  // namespace embedkit::kernels::test
