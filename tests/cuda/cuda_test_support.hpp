// Shared pieces of the CUDA tests: the skip when no device is present, random inputs, and
// bitwise comparison of float tensors (NaN equal to NaN).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/cuda/device.hpp"

// Skips the test when the machine has no usable CUDA device, saying why.
#define EMBEDKIT_REQUIRE_CUDA()                                                               \
  do {                                                                                        \
    const embedkit::cuda::DeviceStatus cuda_status_ = embedkit::cuda::device_status();        \
    if (!cuda_status_.available()) GTEST_SKIP() << "no CUDA device: " << cuda_status_.reason; \
  } while (0)

namespace embedkit::cuda::test {

inline Tensor random_table(std::int64_t rows, std::int64_t dim, DType dtype, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(rows * dim));
  for (float& x : v) x = dist(gen);
  return Tensor::from_floats(v, {rows, dim}, dtype);
}

// n ids in [0, rows), with many repeats (a small hot set) and the padding id sprinkled in.
inline std::vector<std::int64_t> random_ids(std::int64_t n, std::int64_t rows, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<std::int64_t> any(0, rows - 1);
  std::uniform_int_distribution<std::int64_t> hot(0, std::min<std::int64_t>(rows, 4) - 1);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = (gen() % 3 == 0) ? hot(gen) : any(gen);
  return ids;
}

inline Tensor ids_tensor(const std::vector<std::int64_t>& ids, DType dtype, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<std::int64_t>(ids.size())};
  return Tensor::from_vector(ids, shape).to(dtype);
}

// Same dtype, shape and bits (any NaN equals any NaN).
inline ::testing::AssertionResult same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << "dtype/shape differ: " << shape_string(a.shape())
                                         << " vs " << shape_string(b.shape());
  }
  const std::size_t es = dtype_size(a.dtype());
  const auto* pa = static_cast<const unsigned char*>(a.raw_data());
  const auto* pb = static_cast<const unsigned char*>(b.raw_data());
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(pa + static_cast<std::size_t>(i) * es, pb + static_cast<std::size_t>(i) * es,
                    es) == 0) {
      continue;
    }
    const double x = a.item_at(i);
    const double y = b.item_at(i);
    if (x != x && y != y) continue;
    return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace embedkit::cuda::test
