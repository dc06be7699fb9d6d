#include <gtest/gtest.h>

#include "embedkit/core/row_sparse.hpp"

namespace embedkit {
namespace {

RowSparseTensor make(std::vector<std::int64_t> idx, std::vector<float> vals, std::int64_t rows) {
  const auto n = static_cast<std::int64_t>(idx.size());
  const std::int64_t dim = n == 0 ? 2 : static_cast<std::int64_t>(vals.size()) / n;
  return RowSparseTensor(Tensor::from_vector(idx), Tensor::from_vector(vals, Shape{n, dim}), rows);
}

TEST(RowSparse, CoalesceSortsAndSumsRepeats) {
  RowSparseTensor g = make({3, 1, 3, 0}, {1, 2, 3, 4, 5, 6, 7, 8}, 5);
  EXPECT_FALSE(g.is_coalesced());
  RowSparseTensor c = g.coalesce();
  EXPECT_TRUE(c.is_coalesced());
  EXPECT_EQ(c.indices().to_int64_vector(), (std::vector<std::int64_t>{0, 1, 3}));
  EXPECT_EQ(c.values().to_float_vector(), (std::vector<float>{7, 8, 3, 4, 6, 8}));
  Tensor d = g.to_dense();
  EXPECT_EQ(d.shape(), (Shape{5, 2}));
  EXPECT_EQ(d.to_float_vector(), (std::vector<float>{7, 8, 3, 4, 0, 0, 6, 8, 0, 0}));
}

TEST(RowSparse, ConcatKeepsOrder) {
  RowSparseTensor a = make({2}, {1, 1}, 4);
  RowSparseTensor b = make({2, 0}, {2, 2, 3, 3}, 4);
  RowSparseTensor c = a.concat(b);
  EXPECT_EQ(c.indices().to_int64_vector(), (std::vector<std::int64_t>{2, 2, 0}));
  EXPECT_EQ(c.to_dense().to_float_vector(), (std::vector<float>{3, 3, 0, 0, 3, 3, 0, 0}));
}

TEST(RowSparse, EmptyAndInvalid) {
  RowSparseTensor e = RowSparseTensor::empty(3, 4, DType::Float16);
  EXPECT_EQ(e.nnz(), 0);
  EXPECT_TRUE(e.is_coalesced());
  EXPECT_EQ(e.to_dense().shape(), (Shape{3, 4}));
  EXPECT_THROW(make({5}, {1, 2}, 5), IndexError);
  EXPECT_THROW(make({-1}, {1, 2}, 5), IndexError);
  EXPECT_THROW(RowSparseTensor(Tensor::from_vector<std::int32_t>({0}), Tensor::zeros({1, 2}), 3),
               ValueError);
}

}  // namespace
}  // namespace embedkit
