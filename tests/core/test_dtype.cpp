#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "embedkit/core/dtype.hpp"

namespace embedkit {
namespace {

TEST(Half, EveryValueRoundTrips) {
  for (std::uint32_t b = 0; b < 0x10000u; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float f = Half::to_float(bits);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(Half::to_float(Half::from_float(f)))) << b;
    } else {
      EXPECT_EQ(Half::from_float(f), bits) << "bits " << b << " value " << f;
    }
  }
}

// Midpoints between neighbouring halves round to the even one; a float ulp either side rounds
// to the nearer one. This pins round-to-nearest-even over the whole range, subnormals included.
TEST(Half, RoundsToNearestEven) {
  for (std::uint32_t b = 0; b < 0x7bffu; ++b) {
    const float lo = Half::to_float(static_cast<std::uint16_t>(b));
    const float hi = Half::to_float(static_cast<std::uint16_t>(b + 1));
    const float mid = lo + (hi - lo) / 2;  // exact in float
    const std::uint16_t even =
        (b % 2 == 0) ? static_cast<std::uint16_t>(b) : static_cast<std::uint16_t>(b + 1);
    ASSERT_EQ(Half::from_float(mid), even) << b;
    ASSERT_EQ(Half::from_float(std::nextafter(mid, 0.0f)), b) << b;
    ASSERT_EQ(Half::from_float(std::nextafter(mid, 1e9f)), b + 1) << b;
    ASSERT_EQ(Half::from_float(-mid), even | 0x8000u) << b;
  }
}

TEST(Half, OverflowAndSpecials) {
  EXPECT_EQ(Half::from_float(65504.0f), 0x7bffu);
  EXPECT_EQ(Half::from_float(65519.99f), 0x7bffu);
  EXPECT_EQ(Half::from_float(65520.0f), 0x7c00u);  // tie between 65504 (odd) and inf
  EXPECT_EQ(Half::from_float(1e10f), 0x7c00u);
  EXPECT_EQ(Half::from_float(-std::numeric_limits<float>::infinity()), 0xfc00u);
  EXPECT_TRUE(std::isnan(Half::to_float(Half::from_float(std::nanf("")))));
  EXPECT_EQ(Half::from_float(1e-10f), 0u);  // underflows to +0
  EXPECT_EQ(Half::from_float(-0.0f), 0x8000u);
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(BFloat16::from_float(1.0f), 0x3f80u);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even mantissa (1.0).
  EXPECT_EQ(BFloat16::from_float(1.0f + 0x1p-8f), 0x3f80u);
  EXPECT_EQ(BFloat16::from_float(1.0f + 0x1p-7f + 0x1p-8f), 0x3f82u);
  EXPECT_EQ(BFloat16::from_float(std::nextafter(1.0f + 0x1p-8f, 2.0f)), 0x3f81u);
  EXPECT_TRUE(std::isnan(BFloat16::to_float(BFloat16::from_float(std::nanf("")))));
  EXPECT_EQ(BFloat16::from_float(std::numeric_limits<float>::max()), 0x7f80u);  // rounds to inf
  for (std::uint32_t b = 0; b < 0x10000u; ++b) {
    const float f = BFloat16::to_float(static_cast<std::uint16_t>(b));
    if (!std::isnan(f)) {
      ASSERT_EQ(BFloat16::from_float(f), b);
    }
  }
}

TEST(DType, SizesAndNames) {
  EXPECT_EQ(dtype_size(DType::Float32), 4u);
  EXPECT_EQ(dtype_size(DType::Float16), 2u);
  EXPECT_EQ(dtype_size(DType::BFloat16), 2u);
  EXPECT_EQ(dtype_size(DType::Int32), 4u);
  EXPECT_EQ(dtype_size(DType::Int64), 8u);
  EXPECT_EQ(dtype_name(DType::BFloat16), "bfloat16");
  EXPECT_TRUE(is_floating(DType::Float16));
  EXPECT_FALSE(is_floating(DType::Int32));
  EXPECT_TRUE(is_index(DType::Int64));
}

}  // namespace
}  // namespace embedkit
