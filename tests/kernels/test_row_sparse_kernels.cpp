// kernels::cpu::coalesce_rows against RowSparseTensor::coalesce (its reference), bit for bit.
#include <gtest/gtest.h>

#include "embedkit/core/row_sparse.hpp"
#include "kernel_test_support.hpp"
#include "kernels/cpu/row_sparse_cpu.hpp"

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

INSTANTIATE_TEST_SUITE_P(AllLevels, RowSparseKernels, ::testing::ValuesIn(all_configs()),
                         config_name);

}  // namespace
}  // namespace embedkit::kernels::test
