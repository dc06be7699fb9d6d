// The optimizers' coalescing: PyTorch's row order and sums (exactness against PyTorch's
// summation order is checked by the differential tests).
#include <gtest/gtest.h>

#include "optim/all_optimizers.hpp"
#include "optim/coalesce.hpp"

namespace optim_test {
namespace {

using embedkit::RowSparseTensor;
using embedkit::Tensor;

TEST(CoalesceLikeTorch, SortedDistinctRowsWithSums) {
  // 40 entries over 5 rows: past the 16 entries where std::sort stops being an insertion sort.
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back((i * 7 + 3) % 5);
  const auto g = sparse_grad(9, 3, ids, 4).sparse();
  const RowSparseTensor c = embedkit::optim::detail::coalesce_like_torch(g);
  EXPECT_EQ(c.indices().to_int64_vector(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  const RowSparseTensor reference = g.coalesce();  // production order: equal up to rounding
  for (std::int64_t i = 0; i < c.values().numel(); ++i) {
    EXPECT_NEAR(c.values().item_at(i), reference.values().item_at(i), 1e-5);
  }
}

TEST(CoalesceLikeTorch, FewEntriesKeepProductionOrder) {
  // Up to 16 entries std::sort is an insertion sort, stable: the sums are RowSparseTensor's.
  const auto g = sparse_grad(4, 5, {2, 0, 2, 2, 1, 2, 0, 2}, 6).sparse();
  EXPECT_TRUE(
      same_bits(embedkit::optim::detail::coalesce_like_torch(g).values(), g.coalesce().values()));
}

TEST(CoalesceLikeTorch, Empty) {
  const auto c = embedkit::optim::detail::coalesce_like_torch(
      RowSparseTensor::empty(4, 3, embedkit::DType::Float32));
  EXPECT_EQ(c.nnz(), 0);
  EXPECT_EQ(c.dim(), 3);
}

}  // namespace
}  // namespace optim_test
