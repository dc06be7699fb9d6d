// kernels::cpu (embedding_cpu.hpp) against its ref twin, bit for bit, under every instruction
// set the CPU has and several thread counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "kernel_test_support.hpp"
#include "kernels/cpu/embedding_cpu.hpp"
#include "kernels/ref/embedding_ref.hpp"

namespace embedkit::kernels::test {
namespace {

// D = 0 and 1, widths below, at and above a vector (8 and 16 lanes), the specialised widths and
// odd widths past them.
const std::vector<std::int64_t> kDims = {0, 1, 3, 8, 15, 16, 17, 32, 33, 64, 100, 128, 256, 257};
// For the large inputs (several threads): fewer widths, to keep the suite quick.
const std::vector<std::int64_t> kLargeDims = {1, 16, 17, 64, 257};

using EmbeddingKernels = KernelTest;

TEST_P(EmbeddingKernels, GatherMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t dim : kDims) {
      const std::int64_t rows = 97;
      const auto table = random_values<W>(rows * dim, 1 + static_cast<std::uint64_t>(dim));
      for (std::int64_t n : {0, 1, 50, 3000}) {
        for (IdPattern pattern : {IdPattern::Uniform, IdPattern::HotRow, IdPattern::FewRows}) {
          SCOPED_TRACE(type_name<W>() + " ids " + std::to_string(sizeof(I) * 8) + " dim " +
                       std::to_string(dim) + " n " + std::to_string(n) + " pattern " +
                       std::to_string(static_cast<int>(pattern)));
          const auto ids = random_ids<I>(n, rows, 7 + static_cast<std::uint64_t>(n), pattern);
          std::vector<W> expected(static_cast<std::size_t>(n * dim));
          std::vector<W> actual(expected.size());
          ref::gather(table.data(), dim, ids.data(), n, expected.data());
          // With the table size (small: no prefetching) and without (prefetching).
          cpu::gather(table.data(), dim, ids.data(), n, actual.data(), rows);
          EXPECT_TRUE(bitwise_equal(expected, actual));
          std::fill(actual.begin(), actual.end(), W{});
          cpu::gather(table.data(), dim, ids.data(), n, actual.data());
          EXPECT_TRUE(bitwise_equal(expected, actual));
        }
      }
    }
  });
}

// An output past the streaming threshold (32 MiB, rows a multiple of 64 bytes): written with
// non-temporal stores; the result is the same.
template <class W, class I>
void check_large_gather() {
  const std::int64_t dim = 64;
  const std::int64_t rows = 5000;
  const std::int64_t n = (std::int64_t{33} << 20) / (dim * static_cast<std::int64_t>(sizeof(W)));
  const auto table = random_values<W>(rows * dim, 3);
  const auto ids = random_ids<I>(n, rows, 4);
  std::vector<W> expected(static_cast<std::size_t>(n * dim));
  std::vector<W> actual(expected.size());
  ref::gather(table.data(), dim, ids.data(), n, expected.data());
  cpu::gather(table.data(), dim, ids.data(), n, actual.data(), rows);
  EXPECT_TRUE(bitwise_equal(expected, actual)) << type_name<W>();
}

TEST_P(EmbeddingKernels, LargeGatherMatchesRef) {
  check_large_gather<float, std::int64_t>();
  check_large_gather<Half, std::int32_t>();
}

TEST_P(EmbeddingKernels, RenormMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t dim : {1, 7, 16, 33, 128}) {
      for (double p : {1.0, 2.0, 3.5, std::numeric_limits<double>::infinity()}) {
        SCOPED_TRACE(type_name<W>() + " dim " + std::to_string(dim) + " p " + std::to_string(p));
        const std::int64_t rows = 60;
        const auto table = random_values<W>(rows * dim, 11);
        const auto ids = random_ids<I>(200, rows, 12);  // duplicates; some rows untouched
        auto expected = table;
        auto actual = table;
        // A max_norm about the typical norm, so some rows are rescaled and some are not.
        const double max_norm = p == 1.0 ? 0.8 * static_cast<double>(dim) : 1.2;
        ref::renorm_rows(expected.data(), dim, ids.data(), 200, max_norm, p);
        cpu::renorm_rows(actual.data(), dim, ids.data(), 200, max_norm, p);
        EXPECT_TRUE(bitwise_equal(expected, actual));
      }
    }
  });
}

TEST_P(EmbeddingKernels, DenseBackwardMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t n : {0, 1, 40, 3000}) {
      for (std::int64_t dim : n < 3000 ? kDims : kLargeDims) {
        for (IdPattern pattern : {IdPattern::Uniform, IdPattern::HotRow, IdPattern::FewRows}) {
          for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{2}}) {
            for (bool by_freq : {false, true}) {
              SCOPED_TRACE(type_name<W>() + " ids " + std::to_string(sizeof(I) * 8) + " dim " +
                           std::to_string(dim) + " n " + std::to_string(n) + " pattern " +
                           std::to_string(static_cast<int>(pattern)) + " padding " +
                           std::to_string(padding) + " by_freq " + std::to_string(by_freq));
              const std::int64_t rows = 300;
              const auto grad = random_values<W>(n * dim, 21 + static_cast<std::uint64_t>(n));
              auto ids = random_ids<I>(n, rows, 22, pattern);
              for (std::size_t k = 0; k < ids.size(); k += 7) ids[k] = static_cast<I>(2);
              std::vector<W> expected(static_cast<std::size_t>(rows * dim));
              std::vector<W> actual(expected.size(), from_f32<W>(42.0f));  // overwritten
              ref::embedding_backward_dense(grad.data(), ids.data(), n, dim, rows, padding, by_freq,
                                            expected.data());
              cpu::embedding_backward_dense(grad.data(), ids.data(), n, dim, rows, padding, by_freq,
                                            actual.data());
              EXPECT_TRUE(bitwise_equal(expected, actual));
            }
          }
        }
      }
    }
  });
}

TEST_P(EmbeddingKernels, SparseBackwardMatchesRef) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    for (std::int64_t dim : {0, 1, 17, 64}) {
      for (std::int64_t n : {0, 1, 40, 20000}) {
        for (std::int64_t padding : {std::int64_t{-1}, std::int64_t{0}, std::int64_t{3}}) {
          SCOPED_TRACE(type_name<W>() + " dim " + std::to_string(dim) + " n " + std::to_string(n) +
                       " padding " + std::to_string(padding));
          const std::int64_t rows = 10;  // padding ids are frequent, in runs and alone
          const auto grad = random_values<W>(n * dim, 31);
          const auto ids = random_ids<I>(n, rows, 32);
          std::vector<std::int64_t> ei(static_cast<std::size_t>(n)), ai(ei.size());
          std::vector<W> ev(static_cast<std::size_t>(n * dim)), av(ev.size());
          const std::int64_t en = ref::embedding_backward_sparse(grad.data(), ids.data(), n, dim,
                                                                 padding, ei.data(), ev.data());
          const std::int64_t an = cpu::embedding_backward_sparse(grad.data(), ids.data(), n, dim,
                                                                 padding, ai.data(), av.data());
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
  });
}

// NaN, infinities and signed zeros go through the copy untouched and through the gradient sums
// as ref's arithmetic takes them.
TEST_P(EmbeddingKernels, SpecialValues) {
  for_each_type([](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    const std::int64_t dim = 19;
    const std::int64_t rows = 6;
    const float inf = std::numeric_limits<float>::infinity();
    const float specials[] = {std::nanf(""), inf,     -inf,     -0.0f, 0.0f,
                              1e-40f,        -1e-40f, 65504.0f, 1e30f};
    std::vector<W> table(static_cast<std::size_t>(rows * dim));
    for (std::size_t k = 0; k < table.size(); ++k) {
      table[k] = from_f32<W>(specials[k % std::size(specials)]);
    }
    const std::vector<I> ids = {0, 5, 5, 1, 0, 3, 2, 4, 5, 0};
    const auto n = static_cast<std::int64_t>(ids.size());
    std::vector<W> expected(static_cast<std::size_t>(n * dim)), actual(expected.size());
    ref::gather(table.data(), dim, ids.data(), n, expected.data());
    cpu::gather(table.data(), dim, ids.data(), n, actual.data());
    EXPECT_TRUE(bitwise_equal(expected, actual));
    // Gradients made of the gathered specials.
    std::vector<W> eg(static_cast<std::size_t>(rows * dim)), ag(eg.size());
    ref::embedding_backward_dense(expected.data(), ids.data(), n, dim, rows, -1, false, eg.data());
    cpu::embedding_backward_dense(expected.data(), ids.data(), n, dim, rows, -1, false, ag.data());
    EXPECT_TRUE(bitwise_equal(eg, ag)) << type_name<W>();
  });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, EmbeddingKernels, ::testing::ValuesIn(all_configs()),
                         config_name);

}  // namespace
}  // namespace embedkit::kernels::test
