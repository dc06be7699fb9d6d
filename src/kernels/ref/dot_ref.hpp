// Reference for the eight-lane dot product of kernels/cpu/dot.hpp, written from its definition.
// (The other dot product there, dot_ascending, is one element of the matrix product: its
// reference is ref::gemm_accumulate with m = n = 1.)
#pragma once

#include <cstdint>

namespace embedkit::kernels::ref {

// Products of the first n - n % 8 elements go to lane i % 8, each lane summed from 0 in
// ascending i; the lanes are added as a balanced tree, ((0+1)+(2+3))+((4+5)+(6+7)), and the
// last n % 8 products, summed from 0 in ascending i, are added last.
inline float dot_eight_lanes(const float* a, const float* b, std::int64_t n) {
  const std::int64_t body = n - n % 8;
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (std::int64_t i = 0; i < body; ++i) lane[i % 8] += a[i] * b[i];
  float tail = 0.0f;
  for (std::int64_t i = body; i < n; ++i) tail += a[i] * b[i];
  const float low = (lane[0] + lane[1]) + (lane[2] + lane[3]);
  const float high = (lane[4] + lane[5]) + (lane[6] + lane[7]);
  return (low + high) + tail;
}

}  // namespace embedkit::kernels::ref
