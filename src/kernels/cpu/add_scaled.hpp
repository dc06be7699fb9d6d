// y += alpha * x over float32 rows, one fused multiply-add per element, vectorised for the CPU's
// instruction set: the fast twin of kernels/ref/add_scaled_ref.hpp (same bits). The optimizers'
// plain SGD step (w.add_(grad, alpha=-lr)) is this, on whole parameters and on single rows.
#pragma once

#include <cstdint>

namespace embedkit::kernels::cpu {

// y[i] = fma(alpha, x[i], y[i]) for i in [0, n); x and y do not overlap.
void add_scaled(float alpha, const float* x, std::int64_t n, float* y);

}  // namespace embedkit::kernels::cpu
