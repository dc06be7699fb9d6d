// The matrix product behind Linear: C += A * B over float32, single-threaded and blocked.
//
// Determinism is the contract: every element of C adds its K products in ascending k order, one
// rounded multiply and one rounded add per step (the build has no FMA contraction), exactly as
// the naive triple loop does. Blocking changes which elements are computed together, never the
// order of any element's sum, so the result is the same bit for bit on every blocking, CPU and
// vector width; tests check it against gemm_reference.
#pragma once

#include <cstdint>

namespace embedkit::nn::detail {

// A strided matrix view: element (i, j) is data[i * row_stride + j * col_stride]. Transposes
// are views with the strides swapped, so no operand is ever copied just to transpose it.
struct MatrixView {
  const float* data;
  std::int64_t row_stride;
  std::int64_t col_stride;
};

// C[m, n] += sum_k A[i, k] * B[k, j] for C row-major with leading dimension ldc.
void gemm_accumulate(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a, MatrixView b,
                     float* c, std::int64_t ldc);

// The naive triple loop with the same summation order: the truth gemm_accumulate is tested on.
void gemm_reference(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a, MatrixView b,
                    float* c, std::int64_t ldc);

}  // namespace embedkit::nn::detail
