// The kernels of row-sparse gradients and their updates, against their references:
// kernels::cpu::coalesce_rows against RowSparseTensor::coalesce, bit for bit; the grouping of ids
// by row under the fused backward (cpu::group_by_row, cpu::group_bags_by_row) against
// ref::group_by_row, exactly; the
// SGD update (cpu::add_scaled) against ref::add_scaled, bit for bit; the input-order update
// (cpu::apply_in_input_order) against ref::apply_in_input_order, bit for bit; the per-row sums
// under the fused step (cpu::for_each_row_sum) against ref::row_sums, bit for bit; the fused
// plain-SGD step (cpu::sgd_step_runs) against ref::sgd_step_runs, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "embedkit/core/row_sparse.hpp"
#include "kernel_test_support.hpp"
#include "kernels/cpu/add_scaled.hpp"
#include "kernels/cpu/input_order_update.hpp"
#include "kernels/cpu/row_sparse_cpu.hpp"
#include "kernels/cpu/row_sums.hpp"
#include "kernels/cpu/sort_terms.hpp"
#include "kernels/ref/add_scaled_ref.hpp"
#include "kernels/ref/input_order_update_ref.hpp"
#include "kernels/ref/row_groups.hpp"
#include "kernels/ref/row_sums_ref.hpp"

namespace embedkit::kernels::test {
namespace {

using RowSparseKernels = KernelTest;

TEST_P(RowSparseKernels, CoalesceMatchesRowSparseTensor) {
  auto check = [](auto w) {
    using W = decltype(w);
    for (std::int64_t dim : {0, 1, 16, 17, 100}) {
      // Small inputs use a comparison sort, large ones the radix sort; few distinct rows make
      // long runs, many make short ones.
      for (std::int64_t n : {0, 1, 30, 5000, 40000}) {
        for (std::int64_t rows : {std::int64_t{3}, std::int64_t{100000}}) {
          SCOPED_TRACE(type_name<W>() + " dim " + std::to_string(dim) + " n " + std::to_string(n) +
                       " rows " + std::to_string(rows));
          const auto ids = random_ids<std::int64_t>(n, rows, 41);
          const auto vals = random_values<W>(n * dim, 42);
          Tensor ti = Tensor::from_vector(ids);
          Tensor tv = Tensor::empty({n, dim}, dtype_of<W>::value);
          if (!vals.empty()) std::memcpy(tv.raw_data(), vals.data(), vals.size() * sizeof(W));
          const RowSparseTensor expected = RowSparseTensor(ti, tv, rows).coalesce();
          std::vector<std::int64_t> oi(static_cast<std::size_t>(n));
          std::vector<W> ov(static_cast<std::size_t>(n * dim));
          const std::int64_t u =
              cpu::coalesce_rows(ids.data(), vals.data(), n, dim, rows, oi.data(), ov.data());
          ASSERT_EQ(u, expected.nnz());
          oi.resize(static_cast<std::size_t>(u));
          ov.resize(static_cast<std::size_t>(u * dim));
          EXPECT_EQ(oi, expected.indices().to_int64_vector());
          const W* ev = static_cast<const W*>(expected.values().raw_data());
          EXPECT_TRUE(bitwise_equal(std::vector<W>(ev, ev + u * dim), ov));
        }
      }
    }
  };
  check(float{});
  check(Half{});
  check(BFloat16{});
}

// The same groups, rows and order, on both sides of the comparison sort / radix sort switch
// (4096 terms), with row ranges needing one, two and three radix passes, keys of 32 and 64 bits
// and a range too wide to pack a row and a position into 64 bits (the terms' own sort), hot rows
// and with and without padding. (No instruction-set code in it: one run.)
TEST(RowGrouping, CpuGroupByRowMatchesRef) {
  std::vector<cpu::RowTerm> terms;
  cpu::RowGroupingScratch scratch;
  std::uint64_t seed = 51;
  for (std::int64_t n : {0, 1, 2, 30, 4095, 4096, 4097, 40000}) {
    for (std::int64_t num_rows :
         {std::int64_t{1}, std::int64_t{7}, std::int64_t{3000}, std::int64_t{100000},
          std::int64_t{1} << 23, std::int64_t{1} << 50}) {
      for (IdPattern pattern : {IdPattern::Uniform, IdPattern::HotRow, IdPattern::FewRows}) {
        for (std::int64_t padding : {std::int64_t{-1}, num_rows / 2}) {
          SCOPED_TRACE(testing::Message() << "n " << n << " rows " << num_rows << " pattern "
                                          << static_cast<int>(pattern) << " padding " << padding);
          // Over 2^50 rows: ids below 2^23 spread over the range (1 << 26 apart).
          auto ids = random_ids<std::int64_t>(n, std::min<std::int64_t>(num_rows, 1 << 23), ++seed,
                                              pattern);
          if (num_rows > (std::int64_t{1} << 23)) {
            for (std::int64_t& id : ids) id <<= 26;
          }
          const ref::RowGroups expected = ref::group_by_row(ids.data(), n, padding);
          cpu::group_by_row(ids.data(), n, num_rows, padding, terms, scratch);
          ASSERT_EQ(terms.size(), expected.order.size());
          std::vector<std::int64_t> starts;
          std::vector<std::int64_t> rows;
          for (std::size_t k = 0; k < terms.size(); ++k) {
            ASSERT_EQ(terms[k].src, expected.order[k]) << "term " << k;
            ASSERT_EQ(terms[k].dst, ids[static_cast<std::size_t>(terms[k].src)]) << "term " << k;
            ASSERT_EQ(terms[k].scale, 0.0f) << "term " << k;
            if (k == 0 || terms[k].dst != terms[k - 1].dst) {
              starts.push_back(static_cast<std::int64_t>(k));
              rows.push_back(terms[k].dst);
            }
          }
          starts.push_back(static_cast<std::int64_t>(terms.size()));
          EXPECT_EQ(starts, expected.starts);
          EXPECT_EQ(rows, expected.rows);
        }
      }
    }
  }
}

// group_bags_by_row: the same groups in the same order as ref::group_by_row over the bags' ids,
// each term's src the bag of its position. Bags of at most 1, 3, 20 and 1000 ids, empty ones
// among them, so that (row, bag) fits 32-bit keys (few bags, small ranges), needs 64 bits, or
// does not fit at all (2^50 rows and thousands of bags: the terms' own sort); ids spread over
// the rows, and ids of five rows with one of them (row 2) the padding.
TEST(RowGrouping, CpuGroupBagsByRowMatchesRef) {
  std::vector<cpu::RowTerm> terms;
  cpu::RowGroupingScratch scratch;
  std::uint64_t seed = 77;
  for (std::int64_t n : {0, 1, 30, 4095, 4096, 40000}) {
    for (std::int64_t max_bag : {1, 3, 20, 1000}) {
      for (std::int64_t num_rows :
           {std::int64_t{7}, std::int64_t{100000}, std::int64_t{1} << 23, std::int64_t{1} << 50}) {
        for (IdPattern pattern : {IdPattern::Uniform, IdPattern::FewRows}) {
          const std::int64_t padding = pattern == IdPattern::Uniform ? -1 : 2;
          SCOPED_TRACE(testing::Message() << "n " << n << " bags of at most " << max_bag << " rows "
                                          << num_rows << " pattern " << static_cast<int>(pattern));
          auto ids = random_ids<std::int64_t>(n, std::min<std::int64_t>(num_rows, 1 << 23), ++seed,
                                              pattern);
          if (num_rows > (std::int64_t{1} << 23)) {
            for (std::int64_t& id : ids) id <<= 26;
          }
          // Bag sizes drawn in [0, max_bag]: empty bags among the others.
          std::vector<std::int64_t> bounds{0};
          std::vector<std::int64_t> bag_of;
          std::uint64_t draw = seed;
          while (bounds.back() < n) {
            draw = draw * 6364136223846793005ULL + 1442695040888963407ULL;
            const auto size = std::min<std::int64_t>(
                static_cast<std::int64_t>((draw >> 33) % static_cast<std::uint64_t>(max_bag + 1)),
                n - bounds.back());
            for (std::int64_t i = 0; i < size; ++i) {
              bag_of.push_back(static_cast<std::int64_t>(bounds.size()) - 1);
            }
            bounds.push_back(bounds.back() + size);
          }
          const auto num_bags = static_cast<std::int64_t>(bounds.size()) - 1;
          const ref::RowGroups expected = ref::group_by_row(ids.data(), n, padding);
          cpu::group_bags_by_row(ids.data(), bounds.data(), num_bags, num_rows, padding, terms,
                                 scratch);
          ASSERT_EQ(terms.size(), expected.order.size());
          for (std::size_t k = 0; k < terms.size(); ++k) {
            const auto position = static_cast<std::size_t>(expected.order[k]);
            ASSERT_EQ(terms[k].dst, ids[position]) << "term " << k;
            ASSERT_EQ(terms[k].src, bag_of[position]) << "term " << k;
            ASSERT_EQ(terms[k].scale, 0.0f) << "term " << k;
          }
        }
      }
    }
  }
}

TEST_P(RowSparseKernels, AddScaledMatchesRef) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::uint64_t seed = 61;
  for (std::int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 300, 4099}) {
    for (float alpha : {-0.01f, 1.0f, 0.0f, -0.0f, 3e38f, -kInf}) {
      SCOPED_TRACE(testing::Message() << "n " << n << " alpha " << alpha);
      std::vector<float> x = random_values<float>(n, ++seed);
      std::vector<float> y0 = random_values<float>(n, ++seed);
      // Signed zeros, subnormals, huge values, infinities and NaN among the ordinary ones.
      const std::array<float, 6> specials = {
          -0.0f, 1e-40f, 3e38f, -kInf, kInf, std::numeric_limits<float>::quiet_NaN()};
      for (std::size_t i = 0; i < x.size(); i += 5) {
        x[i] = specials[(i / 5) % specials.size()];
        y0[(i * 3) % y0.size()] = specials[(i / 5 + 2) % specials.size()];
      }
      std::vector<float> fast = y0;
      std::vector<float> slow = y0;
      cpu::add_scaled(alpha, x.data(), n, fast.data());
      ref::add_scaled(alpha, x.data(), n, slow.data());
      EXPECT_TRUE(bitwise_equal(slow, fast));
    }
  }
}

// Many occurrences with a hot row (a third of them), widths that are and are not whole
// vectors: under every thread count of the suite, each row's occurrences in input order.
TEST_P(RowSparseKernels, ApplyInInputOrderMatchesRef) {
  std::uint64_t seed = 71;
  for (std::int64_t dim : {1, 7, 16, 17, 50, 100, 128, 300}) {
    for (std::int64_t n : {0, 1, 5, 3000, 40000}) {
      SCOPED_TRACE(testing::Message() << "dim " << dim << " n " << n);
      const std::int64_t rows = 500;
      const std::int64_t sources = 64;
      const std::vector<float> src = random_values<float>(sources * dim, ++seed);
      const std::vector<float> scales = random_values<float>(n, ++seed);
      const auto picks = random_ids<std::int64_t>(2 * n, rows, ++seed);
      std::vector<cpu::RowTerm> terms(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) {
        terms[static_cast<std::size_t>(i)] = {i % 3 == 0 ? 11 : picks[static_cast<std::size_t>(i)],
                                              picks[static_cast<std::size_t>(n + i)] % sources,
                                              scales[static_cast<std::size_t>(i)]};
      }
      const std::vector<float> table = random_values<float>(rows * dim, ++seed);
      std::vector<float> fast = table;
      std::vector<float> slow = table;
      cpu::apply_in_input_order(src.data(), dim, terms, fast.data(), rows);
      ref::apply_in_input_order(src.data(), dim, terms, slow.data());
      EXPECT_TRUE(bitwise_equal(slow, fast));
    }
  }
}

// Every run's sum handed to on_row exactly once, bitwise ref's: widths that are and are not
// whole vectors (0 and 1 included), runs of one id and hot rows, few and many table rows, and
// gradients and tables below and above the L2 size (with and without prefetching), under every
// thread count of the suite. The touched tables are real memory, prefetched but never written.
TEST_P(RowSparseKernels, ForEachRowSumMatchesRef) {
  std::uint64_t seed = 91;
  std::vector<cpu::RowTerm> terms;
  cpu::RowGroupingScratch scratch;
  for (std::int64_t dim : {0, 1, 7, 16, 17, 50, 100, 128, 300}) {
    for (std::int64_t num_rows : {std::int64_t{3}, std::int64_t{500}, std::int64_t{70000}}) {
      // 70000 rows: a table and a state above 1 MiB (prefetched), the smaller ones in L2.
      const std::vector<float> table(static_cast<std::size_t>(num_rows * dim));
      const std::vector<float> state(static_cast<std::size_t>(num_rows));
      const std::vector<cpu::TouchedRows> touched = {
          {table.data(), dim * static_cast<std::int64_t>(sizeof(float)), num_rows},
          {state.data(), static_cast<std::int64_t>(sizeof(float)), num_rows}};
      for (std::int64_t n : {0, 1, 5, 3000, 40000}) {
        for (IdPattern pattern : {IdPattern::Uniform, IdPattern::HotRow}) {
          SCOPED_TRACE(testing::Message() << "dim " << dim << " n " << n << " rows " << num_rows
                                          << " pattern " << static_cast<int>(pattern));
          // Gradient rows: 4096 (above 1 MiB from D = 64 on: prefetched) or 64 (bags).
          const std::int64_t src_rows = std::min<std::int64_t>(n, n % 2 == 0 ? 4096 : 64);
          const std::vector<float> src = random_values<float>(src_rows * dim, ++seed);
          const auto ids = random_ids<std::int64_t>(n, num_rows, ++seed, pattern);
          cpu::group_by_row(ids.data(), n, num_rows, num_rows / 2, terms, scratch);
          const std::vector<float> scales =
              random_values<float>(static_cast<std::int64_t>(terms.size()), ++seed);
          for (std::size_t k = 0; k < terms.size(); ++k) {
            terms[k].src %= std::max<std::int64_t>(src_rows, 1);
            terms[k].scale = scales[k];
          }
          const auto expected = ref::row_sums(src.data(), dim, terms);
          std::vector<std::int64_t> rows;
          for (const auto& run : expected) rows.push_back(run.first);
          // Slot of a row among the runs (a read-only search: on_row runs on many threads).
          std::vector<float> got(expected.size() * static_cast<std::size_t>(dim));
          std::vector<int> calls(expected.size(), 0);
          cpu::for_each_row_sum(
              src.data(), src_rows, dim, terms,
              [&](std::int64_t row, const float* sum) {
                const auto slot = static_cast<std::size_t>(
                    std::lower_bound(rows.begin(), rows.end(), row) - rows.begin());
                ++calls[slot];
                std::copy(sum, sum + dim, got.begin() + static_cast<std::ptrdiff_t>(slot) * dim);
              },
              touched);
          for (std::size_t slot = 0; slot < expected.size(); ++slot) {
            ASSERT_EQ(calls[slot], 1) << "row " << rows[slot];
            const auto at = got.begin() + static_cast<std::ptrdiff_t>(slot) * dim;
            ASSERT_TRUE(bitwise_equal(expected[slot].second, std::vector<float>(at, at + dim)))
                << "row " << rows[slot];
          }
        }
      }
    }
  }
}

// The table after the fused SGD step, bitwise ref's: widths that are and are not whole vectors
// (the specialised 16/64/128, odd ones, wide rows past the register blocks), runs of one id and
// hot rows, a frozen row (in the terms or not),
// tables and gradients below and above the L2 size (with and without prefetching), signed zeros,
// infinities and NaN among the values, under every thread count of the suite.
TEST_P(RowSparseKernels, SgdStepRunsMatchesRef) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::uint64_t seed = 101;
  std::vector<cpu::RowTerm> terms;
  cpu::RowGroupingScratch scratch;
  std::vector<float> fast;
  std::vector<float> slow;
  const std::array<float, 5> specials = {-0.0f, 0.0f, kInf, -kInf,
                                         std::numeric_limits<float>::quiet_NaN()};
  for (std::int64_t dim : {0, 1, 7, 16, 17, 64, 100, 128, 300, 1031}) {
    // The largest table is above the 1 MiB L2 (prefetched) at every width: 40000 rows of up
    // to 64 floats, 4000 wider rows.
    for (std::int64_t num_rows :
         {std::int64_t{3}, std::int64_t{500}, std::int64_t{dim <= 64 ? 40000 : 4000}}) {
      // One starting table per shape (drawing it is most of the test's time).
      std::vector<float> table = random_values<float>(num_rows * dim, ++seed);
      for (std::size_t i = 0; i < table.size(); i += 89) table[i] = specials[(i + 2) % 5];
      for (std::int64_t n : {0, 1, 5, 3000, 20000}) {
        // Copying and comparing the large table is most of each case's time: there, only fewer
        // runs than the prefetch distance (5) and many (20000); the small tables take every n.
        if (num_rows > 500 && n != 5 && n != 20000) continue;
        for (IdPattern pattern : {IdPattern::Uniform, IdPattern::HotRow}) {
          for (std::int64_t frozen : {std::int64_t{-1}, num_rows / 3}) {
            SCOPED_TRACE(testing::Message()
                         << "dim " << dim << " n " << n << " rows " << num_rows << " pattern "
                         << static_cast<int>(pattern) << " frozen " << frozen);
            const std::int64_t src_rows = std::min<std::int64_t>(n, n % 2 == 0 ? 4096 : 64);
            std::vector<float> src = random_values<float>(src_rows * dim, ++seed);
            for (std::size_t i = 0; i < src.size(); i += 97) src[i] = specials[i % 5];
            const auto ids = random_ids<std::int64_t>(n, num_rows, ++seed, pattern);
            // Padding num_rows / 2 is left out of the terms; the frozen row stays in them.
            cpu::group_by_row(ids.data(), n, num_rows, num_rows / 2, terms, scratch);
            const std::vector<float> scales =
                random_values<float>(static_cast<std::int64_t>(terms.size()), ++seed);
            for (std::size_t k = 0; k < terms.size(); ++k) {
              terms[k].src %= std::max<std::int64_t>(src_rows, 1);
              terms[k].scale = k % 7 == 0 ? 1.0f : scales[k];
            }
            fast.assign(table.begin(), table.end());
            slow.assign(table.begin(), table.end());
            const float step = -0.01f;
            cpu::sgd_step_runs(src.data(), src_rows, dim, terms, fast.data(), num_rows, step,
                               frozen);
            ref::sgd_step_runs(src.data(), dim, terms, slow.data(), step, frozen);
            ASSERT_TRUE(bitwise_equal(slow, fast));
            if (frozen >= 0 && dim > 0) {
              const auto at = static_cast<std::ptrdiff_t>(frozen * dim);
              EXPECT_TRUE(
                  bitwise_equal(std::vector<float>(table.begin() + at, table.begin() + at + dim),
                                std::vector<float>(fast.begin() + at, fast.begin() + at + dim)));
            }
          }
        }
      }
    }
  }
}

// A fused step with optimizer state against its reference, bit for bit: the table rows and the
// accumulators (one per row, or with per_element one per table element), at widths around the 8
// partial sums and the vector widths, with special values in the gradient, the table and the
// accumulators, a hot row and a frozen row (left alone, its accumulators included). step(src,
// src_rows, dim, terms, table, num_rows, accumulators, frozen, fast) runs the kernel, or with
// fast false the reference.
template <class Step>
void expect_state_runs_match_ref(bool per_element, std::uint64_t seed, Step&& step) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<cpu::RowTerm> terms;
  cpu::RowGroupingScratch scratch;
  const std::array<float, 5> specials = {-0.0f, 0.0f, kInf, -kInf,
                                         std::numeric_limits<float>::quiet_NaN()};
  for (std::int64_t dim : {0, 1, 7, 8, 9, 16, 23, 64, 100, 128, 300}) {
    for (std::int64_t num_rows : {std::int64_t{3}, std::int64_t{dim <= 64 ? 20000 : 3000}}) {
      const std::int64_t state_width = per_element ? dim : 1;
      std::vector<float> table = random_values<float>(num_rows * dim, ++seed);
      for (std::size_t i = 0; i < table.size(); i += 89) table[i] = specials[(i + 2) % 5];
      std::vector<float> accumulators = random_values<float>(num_rows * state_width, ++seed);
      for (std::size_t i = 0; i < accumulators.size(); ++i) {
        accumulators[i] = i % 13 == 0 ? 0.0f : std::fabs(accumulators[i]);
      }
      if (accumulators.size() > 5) accumulators[5] = kInf;
      for (std::int64_t n : {1, 5, 20000}) {
        for (IdPattern pattern : {IdPattern::Uniform, IdPattern::HotRow}) {
          for (std::int64_t frozen : {std::int64_t{-1}, num_rows / 3}) {
            SCOPED_TRACE(testing::Message()
                         << "dim " << dim << " n " << n << " rows " << num_rows << " pattern "
                         << static_cast<int>(pattern) << " frozen " << frozen);
            const std::int64_t src_rows = std::min<std::int64_t>(n, 4096);
            std::vector<float> src = random_values<float>(src_rows * dim, ++seed);
            for (std::size_t i = 0; i < src.size(); i += 97) src[i] = specials[i % 5];
            const auto ids = random_ids<std::int64_t>(n, num_rows, ++seed, pattern);
            cpu::group_by_row(ids.data(), n, num_rows, num_rows / 2, terms, scratch);
            for (cpu::RowTerm& t : terms) {
              t.src %= src_rows;
              t.scale = 1.0f;
            }
            std::vector<float> fast = table;
            std::vector<float> slow = table;
            std::vector<float> fast_acc = accumulators;
            std::vector<float> slow_acc = accumulators;
            step(src.data(), src_rows, dim, terms, fast.data(), num_rows, fast_acc.data(), frozen,
                 true);
            step(src.data(), src_rows, dim, terms, slow.data(), num_rows, slow_acc.data(), frozen,
                 false);
            ASSERT_TRUE(bitwise_equal(slow, fast));
            ASSERT_TRUE(bitwise_equal(slow_acc, fast_acc));
            if (frozen >= 0) {
              const auto at = static_cast<std::ptrdiff_t>(frozen * state_width);
              EXPECT_TRUE(bitwise_equal(
                  std::vector<float>(accumulators.begin() + at,
                                     accumulators.begin() + at + state_width),
                  std::vector<float>(fast_acc.begin() + at, fast_acc.begin() + at + state_width)));
            }
          }
        }
      }
    }
  }
}

TEST_P(RowSparseKernels, RowWiseAdagradStepRunsMatchesRef) {
  expect_state_runs_match_ref(
      false, 707,
      [](const float* src, std::int64_t src_rows, std::int64_t dim,
         const std::vector<cpu::RowTerm>& terms, float* table, std::int64_t num_rows,
         float* accumulators, std::int64_t frozen, bool fast) {
        if (fast) {
          cpu::rowwise_adagrad_step_runs(src, src_rows, dim, terms, table, num_rows, accumulators,
                                         0.05f, 1e-8f, frozen);
        } else {
          ref::rowwise_adagrad_step_runs(src, dim, terms, table, accumulators, 0.05f, 1e-8f,
                                         frozen);
        }
      });
}

TEST_P(RowSparseKernels, AdagradStepRunsMatchesRef) {
  expect_state_runs_match_ref(
      true, 909,
      [](const float* src, std::int64_t src_rows, std::int64_t dim,
         const std::vector<cpu::RowTerm>& terms, float* table, std::int64_t num_rows,
         float* accumulators, std::int64_t frozen, bool fast) {
        if (fast) {
          cpu::adagrad_step_runs(src, src_rows, dim, terms, table, num_rows, accumulators, -0.05f,
                                 1e-10f, frozen);
        } else {
          ref::adagrad_step_runs(src, dim, terms, table, accumulators, -0.05f, 1e-10f, frozen);
        }
      });
}

INSTANTIATE_TEST_SUITE_P(AllLevels, RowSparseKernels, ::testing::ValuesIn(all_configs()),
                         config_name);

}  // namespace
}  // namespace embedkit::kernels::test
