// The torch bridge: every dtype goes to LibTorch and back with the same shape and bytes, as an
// independent copy; sparse gradients arrive as torch's uncoalesced COO tensors.
#include "support/torch_bridge.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "embedkit/core/row_sparse.hpp"

namespace {

using embedkit::DType;
using embedkit::Shape;
using embedkit::Tensor;
using embedkit_test::from_torch;
using embedkit_test::to_torch;

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// Six values of `dtype` in a 2 x 3 tensor: negative zero and fractions for the float types.
Tensor sample(DType dtype) {
  const Shape shape{2, 3};
  if (dtype == DType::Int32) {
    return Tensor::from_vector<std::int32_t>({1, -2, 3, 0, -7, 2048}, shape);
  }
  if (dtype == DType::Int64) {
    return Tensor::from_vector<std::int64_t>({1, -2, 3, 0, -7, 2048}, shape);
  }
  return Tensor::from_floats({1.5f, -0.0f, 3.25f, 0.001f, -7.0f, 2048.0f}, shape, dtype);
}

TEST(TorchBridge, EveryDTypeRoundTripsBitForBit) {
  for (DType dtype :
       {DType::Float32, DType::Float16, DType::BFloat16, DType::Int32, DType::Int64}) {
    EXPECT_EQ(from_torch(to_torch(dtype)), dtype);
    const Tensor ours = sample(dtype);
    const at::Tensor theirs = to_torch(ours);
    EXPECT_EQ(theirs.scalar_type(), to_torch(dtype));
    EXPECT_EQ(theirs.sizes().vec(), std::vector<std::int64_t>({2, 3}));
    EXPECT_TRUE(same_bytes(from_torch(theirs), ours)) << embedkit::dtype_name(dtype);
    // Copies, not views: changing torch's tensor leaves embedkit's as it was.
    theirs.zero_();
    EXPECT_TRUE(same_bytes(ours, sample(dtype))) << embedkit::dtype_name(dtype);
  }
  EXPECT_EQ(to_torch(Tensor::empty(Shape{0, 4}, DType::Float32)).sizes().vec(),
            std::vector<std::int64_t>({0, 4}));
  EXPECT_THROW(from_torch(at::kDouble), std::logic_error);
}

TEST(TorchBridge, FromTorchCopiesNonContiguousTensorsInLogicalOrder) {
  const at::Tensor t = at::arange(6, at::kFloat).reshape({2, 3}).t();  // a transposed view
  const Tensor ours = from_torch(t);
  EXPECT_EQ(ours.shape(), (Shape{3, 2}));
  EXPECT_EQ(ours.item_at(1), 3.0);
  EXPECT_EQ(ours.item_at(2), 1.0);
}

TEST(TorchBridge, SparseGradientsKeepTheirEntryOrder) {
  const Tensor ids = Tensor::from_vector<std::int64_t>({4, 1, 4});
  const Tensor values = Tensor::from_floats({1, 2, 3, 4, 5, 6}, Shape{3, 2}, DType::Float32);
  const auto grad =
      embedkit::nn::WeightGrad::from_sparse(embedkit::RowSparseTensor(ids, values, 5));
  const at::Tensor theirs = to_torch(grad);
  ASSERT_TRUE(theirs.is_sparse());
  EXPECT_FALSE(theirs.is_coalesced());
  EXPECT_EQ(theirs.sizes().vec(), std::vector<std::int64_t>({5, 2}));
  const auto back = embedkit_test::from_torch_sparse(theirs);
  EXPECT_TRUE(same_bytes(back.indices, ids));
  EXPECT_TRUE(same_bytes(back.values, values));
  EXPECT_FALSE(to_torch(embedkit::nn::WeightGrad()).defined());
  EXPECT_FALSE(embedkit_test::maybe_torch(Tensor()).has_value());
  EXPECT_TRUE(embedkit_test::leaf(values).requires_grad());
}

}  // namespace
