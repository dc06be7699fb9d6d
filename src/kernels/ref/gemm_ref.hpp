// Reference matrix product: the naive triple loop that defines what kernels/cpu/gemm.hpp's
// blocked product computes, bit for bit.
#pragma once

#include <cstdint>

#include "kernels/matrix_view.hpp"

namespace embedkit::kernels::ref {

// C[m, n] += A[m, k] * B[k, n] for C row-major with leading dimension ldc. Every element of C
// starts from its value in C and adds its k products in ascending k order, one rounded multiply
// and one rounded add per step.
inline void gemm_accumulate(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a,
                            MatrixView b, float* c, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      float acc = c[i * ldc + j];
      for (std::int64_t p = 0; p < k; ++p) {
        acc += a.data[i * a.row_stride + p * a.col_stride] *
               b.data[p * b.row_stride + j * b.col_stride];
      }
      c[i * ldc + j] = acc;
    }
  }
}

}  // namespace embedkit::kernels::ref
