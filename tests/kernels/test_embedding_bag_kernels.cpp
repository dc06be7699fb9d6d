// kernels::cpu (embedding_bag_cpu.hpp) against its ref twin, bit for bit, under every
// instruction set the CPU has and several thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernel_test_support.hpp"
#include "kernels/cpu/embedding_bag_cpu.hpp"
#include "kernels/ref/embedding_bag_ref.hpp"

namespace embedkit::kernels::test {
namespace {

// Widths that are not a whole number of vectors take a pass with a partial vector: 100 and 300
// as specialised widths (with_dim), 20, 50, 257 and 260 at run time; 300 and 257 also need a
// full block before it.
const std::vector<std::int64_t> kDims = {1,  3,  8,   15,  16,  17,  20,  32, 33,
                                         50, 64, 100, 128, 256, 257, 260, 300};

// One bag layout: bounds and ids (int64 values; converted per id type).
struct Layout {
  std::string name;
  std::vector<std::int64_t> bounds;
};

std::vector<Layout> layouts(std::uint64_t seed) {
  std::vector<Layout> l;
  l.push_back({"no bags", {0}});
  l.push_back({"one empty bag", {0, 0}});
  l.push_back({"bags of 1", random_bounds(30, 1, seed)});  // sizes 0 or 1
  std::vector<std::int64_t> ones(2001);  // exactly one id each (their own path), many threads
  for (std::size_t b = 0; b < ones.size(); ++b) ones[b] = static_cast<std::int64_t>(b);
  l.push_back({"bags of exactly 1", ones});
  l.push_back({"bags up to 20", random_bounds(40, 20, seed + 1)});
  l.push_back({"bags up to 100", random_bounds(12, 100, seed + 2)});
  std::vector<std::int64_t> big(1201);  // many bags: several threads
  for (std::size_t b = 1; b < big.size(); ++b)
    big[b] = big[b - 1] + static_cast<std::int64_t>(b % 23);
  l.push_back({"many bags", big});
  return l;
}

using BagKernels = KernelTest;

TEST_P(BagKernels, ForwardMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t dim : kDims) {
      for (const Layout& layout : layouts(static_cast<std::uint64_t>(dim))) {
        const std::int64_t num_bags = static_cast<std::int64_t>(layout.bounds.size()) - 1;
        const std::int64_t n = layout.bounds.back();
        for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
          for (bool weighted : {false, true}) {
            if (weighted && mode == BagMode::Max) continue;
            for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{1}}) {
              SCOPED_TRACE(type_name<W>() + " ids " + std::to_string(sizeof(I) * 8) + " dim " +
                           std::to_string(dim) + " " + layout.name + " " + bag_mode_name(mode) +
                           (weighted ? " weighted" : "") + " padding " + std::to_string(padding));
              const std::int64_t rows = 50;
              // Max: small integers, so that ties (first wins) are everywhere.
              const auto table = random_values<W>(rows * dim, 5, mode == BagMode::Max ? 3 : 0);
              auto ids = random_ids<I>(n, rows, 6 + static_cast<std::uint64_t>(n));
              for (std::size_t k = 0; k < ids.size(); k += 5) ids[k] = static_cast<I>(1);
              const auto psw = random_values<W>(n, 8);
              const W* p = weighted ? psw.data() : nullptr;
              std::vector<W> expected(static_cast<std::size_t>(num_bags * dim));
              std::vector<W> actual(expected.size(), from_f32<W>(42.0f));
              std::vector<std::int64_t> earg(expected.size()), aarg(expected.size(), 7);
              const bool arg = mode == BagMode::Max;
              ref::bag_forward(table.data(), dim, ids.data(), layout.bounds.data(), num_bags, mode,
                               p, padding, expected.data(), arg ? earg.data() : nullptr);
              // Half the cases give the (small) table size, which turns prefetching off.
              cpu::bag_forward(table.data(), dim, ids.data(), layout.bounds.data(), num_bags, mode,
                               p, padding, actual.data(), arg ? aarg.data() : nullptr,
                               padding < 0 ? rows : -1);
              EXPECT_TRUE(bitwise_equal(expected, actual));
              if (arg) {
                EXPECT_EQ(earg, aarg);
              }
              if (mode == BagMode::Max) {  // and without arg_max
                std::vector<W> plain(expected.size());
                cpu::bag_forward(table.data(), dim, ids.data(), layout.bounds.data(), num_bags,
                                 mode, p, padding, plain.data(), nullptr);
                EXPECT_TRUE(bitwise_equal(expected, plain));
              }
            }
          }
        }
      }
    }
  });
}

// Max's scan with NaN (wins only when first), infinities and signed zeros (the first of equal
// values stays: +0 after -0 keeps -0); sums through NaN and infinity; bags of one id, whose sum
// turns -0 into +0 (0 + -0), at a runtime width and at the specialised ones (their own path).
TEST_P(BagKernels, SpecialValues) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    const float nan = std::nanf("");
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> row_values = {nan, -0.0f, 0.0f, 1.0f, -inf, inf, 1e-40f};
    const auto rows = static_cast<std::int64_t>(row_values.size());
    const std::vector<I> ids = {0, 1, 2, 3, 4, 5, 6, 1, 2, 2, 1, 6, 5, 4, 3, 2, 1, 0};
    // Mixed bags, and bags of exactly one id each (a path of their own), without and with a
    // padding row (row 2: its bags of one are empty sums).
    std::vector<std::int64_t> singles(ids.size() + 1);
    for (std::size_t b = 0; b < singles.size(); ++b) singles[b] = static_cast<std::int64_t>(b);
    for (const auto& [bounds, padding] :
         {std::pair{std::vector<std::int64_t>{0, 7, 8, 9, 11, 12, 13, 18}, std::int64_t{-1}},
          std::pair{singles, std::int64_t{-1}}, std::pair{singles, std::int64_t{2}}}) {
      const std::int64_t num_bags = static_cast<std::int64_t>(bounds.size()) - 1;
      for (std::int64_t dim : {std::int64_t{21}, std::int64_t{16}, std::int64_t{128}}) {
        std::vector<W> table(static_cast<std::size_t>(rows * dim));
        for (std::int64_t r = 0; r < rows; ++r) {
          for (std::int64_t j = 0; j < dim; ++j) {
            // Column j of row r: rotate the values so each column sees another order.
            table[static_cast<std::size_t>(r * dim + j)] =
                from_f32<W>(row_values[static_cast<std::size_t>((r + j) % rows)]);
          }
        }
        for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
          const auto size = static_cast<std::size_t>(num_bags * dim);
          std::vector<W> expected(size), actual(size);
          std::vector<std::int64_t> earg(size), aarg(size);
          ref::bag_forward(table.data(), dim, ids.data(), bounds.data(), num_bags, mode,
                           static_cast<const W*>(nullptr), padding, expected.data(), earg.data());
          cpu::bag_forward(table.data(), dim, ids.data(), bounds.data(), num_bags, mode,
                           static_cast<const W*>(nullptr), padding, actual.data(), aarg.data());
          EXPECT_TRUE(bitwise_equal(expected, actual))
              << type_name<W>() << " dim " << dim << " " << bag_mode_name(mode) << " padding "
              << padding;
          if (mode == BagMode::Max) {
            EXPECT_EQ(earg, aarg) << type_name<W>() << " dim " << dim;
          } else {
            // The bag of the single id 1 (row 1 starts with -0): its sum and mean start with +0.
            const W first = actual[static_cast<std::size_t>(1 * dim)];
            EXPECT_EQ(to_f32(first), 0.0f);
            EXPECT_FALSE(std::signbit(to_f32(first))) << type_name<W>() << " dim " << dim;
          }
        }
      }
    }
  });
}

TEST_P(BagKernels, DenseBackwardMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t dim : {1, 16, 17, 64, 100, 256}) {
      for (const Layout& layout : layouts(3)) {
        const std::int64_t num_bags = static_cast<std::int64_t>(layout.bounds.size()) - 1;
        const std::int64_t n = layout.bounds.back();
        for (BagMode mode : {BagMode::Sum, BagMode::Mean, BagMode::Max}) {
          for (int variant = 0; variant < 3; ++variant) {  // plain, weighted, by frequency
            const bool weighted = variant == 1 && mode == BagMode::Sum;
            const bool by_freq = variant == 2 && mode != BagMode::Max;
            if (variant > 0 && !weighted && !by_freq) continue;
            SCOPED_TRACE(type_name<W>() + " ids " + std::to_string(sizeof(I) * 8) + " dim " +
                         std::to_string(dim) + " " + layout.name + " " + bag_mode_name(mode) +
                         " variant " + std::to_string(variant));
            const std::int64_t rows = 70;
            const std::int64_t padding = 4;
            const auto table = random_values<W>(rows * dim, 9, mode == BagMode::Max ? 2 : 0);
            auto ids =
                random_ids<I>(n, rows, 10, variant == 2 ? IdPattern::FewRows : IdPattern::Uniform);
            for (std::size_t k = 0; k < ids.size(); k += 6) ids[k] = static_cast<I>(padding);
            const auto grad = random_values<W>(num_bags * dim, 12);
            const auto psw = random_values<W>(n, 13);
            const W* p = weighted ? psw.data() : nullptr;
            std::vector<std::int64_t> arg;
            if (mode == BagMode::Max) {
              arg.resize(static_cast<std::size_t>(num_bags * dim));
              std::vector<W> out(arg.size());
              ref::bag_forward(table.data(), dim, ids.data(), layout.bounds.data(), num_bags, mode,
                               static_cast<const W*>(nullptr), padding, out.data(), arg.data());
            }
            std::vector<W> expected(static_cast<std::size_t>(rows * dim));
            std::vector<W> actual(expected.size(), from_f32<W>(42.0f));
            ref::bag_backward_dense(grad.data(), ids.data(), layout.bounds.data(), num_bags, dim,
                                    rows, mode, p, padding, by_freq, arg.data(), expected.data());
            cpu::bag_backward_dense(grad.data(), ids.data(), layout.bounds.data(), num_bags, dim,
                                    rows, mode, p, padding, by_freq, arg.data(), actual.data());
            EXPECT_TRUE(bitwise_equal(expected, actual));
          }
        }
      }
    }
  });
}

TEST_P(BagKernels, SparseBackwardMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t dim : {1, 16, 17, 100}) {
      for (const Layout& layout : layouts(4)) {
        const std::int64_t num_bags = static_cast<std::int64_t>(layout.bounds.size()) - 1;
        const std::int64_t n = layout.bounds.back();
        for (BagMode mode : {BagMode::Sum, BagMode::Mean}) {
          for (bool weighted : {false, true}) {
            if (weighted && mode != BagMode::Sum) continue;
            for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{2}}) {
              SCOPED_TRACE(type_name<W>() + " dim " + std::to_string(dim) + " " + layout.name +
                           " " + bag_mode_name(mode) + (weighted ? " weighted" : "") + " padding " +
                           std::to_string(padding));
              const std::int64_t rows = 9;
              const auto ids = random_ids<I>(n, rows, 14);
              const auto grad = random_values<W>(num_bags * dim, 15);
              const auto psw = random_values<W>(n, 16);
              const W* p = weighted ? psw.data() : nullptr;
              std::vector<std::int64_t> ei(static_cast<std::size_t>(n)), ai(ei.size());
              std::vector<W> ev(static_cast<std::size_t>(n * dim)), av(ev.size());
              const std::int64_t en =
                  ref::bag_backward_sparse(grad.data(), ids.data(), layout.bounds.data(), num_bags,
                                           dim, mode, p, padding, ei.data(), ev.data());
              const std::int64_t an =
                  cpu::bag_backward_sparse(grad.data(), ids.data(), layout.bounds.data(), num_bags,
                                           dim, mode, p, padding, ai.data(), av.data());
              ASSERT_EQ(en, an);
              ei.resize(static_cast<std::size_t>(en));
              ai.resize(static_cast<std::size_t>(an));
              ev.resize(static_cast<std::size_t>(en * dim));
              av.resize(static_cast<std::size_t>(an * dim));
              EXPECT_EQ(ei, ai);
              EXPECT_TRUE(bitwise_equal(ev, av));
            }
          }
        }
      }
    }
  });
}

TEST_P(BagKernels, PerSampleWeightsGradMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t dim : {1, 5, 16, 33, 128}) {
      for (const Layout& layout : layouts(5)) {
        SCOPED_TRACE(type_name<W>() + " dim " + std::to_string(dim) + " " + layout.name);
        const std::int64_t num_bags = static_cast<std::int64_t>(layout.bounds.size()) - 1;
        const std::int64_t n = layout.bounds.back();
        const std::int64_t rows = 40;
        const auto table = random_values<W>(rows * dim, 17);
        const auto ids = random_ids<I>(n, rows, 18);
        const auto grad = random_values<W>(num_bags * dim, 19);
        std::vector<W> expected(static_cast<std::size_t>(n)), actual(expected.size());
        ref::bag_backward_per_sample_weights(grad.data(), table.data(), ids.data(),
                                             layout.bounds.data(), num_bags, dim, 3,
                                             expected.data());
        cpu::bag_backward_per_sample_weights(grad.data(), table.data(), ids.data(),
                                             layout.bounds.data(), num_bags, dim, 3, actual.data());
        EXPECT_TRUE(bitwise_equal(expected, actual));
      }
    }
  });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, BagKernels, ::testing::ValuesIn(all_configs()), config_name);

}  // namespace
}  // namespace embedkit::kernels::test
