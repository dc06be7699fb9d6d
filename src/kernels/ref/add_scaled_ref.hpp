// Reference for kernels/cpu/add_scaled.hpp: the plain loop.
#pragma once

#include <cmath>
#include <cstdint>

namespace embedkit::kernels::ref {

// y[i] = fma(alpha, x[i], y[i]) for i in [0, n): PyTorch's y.add_(x, alpha=alpha) on float32.
inline void add_scaled(float alpha, const float* x, std::int64_t n, float* y) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}

}  // namespace embedkit::kernels::ref
