// The two vector operations of the training loops, written so that the compiler vectorizes them
// without -ffast-math and every build sums in the same fixed order (results are reproducible).
#pragma once

#include <cstddef>

namespace embedkit::models::training {

// Dot product with eight independent partial sums: a single running sum is a serial dependency
// chain that no compiler may reorder.
inline float dot(const float* a, const float* b, std::size_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  }
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

// y += a x
inline void axpy(float a, const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace embedkit::models::training
