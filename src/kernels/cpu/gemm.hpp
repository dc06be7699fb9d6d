// The matrix product behind Linear: C += A * B over float32, single-threaded and blocked; the
// fast twin of kernels/ref/gemm_ref.hpp.
//
// Determinism is the contract: every element of C adds its K products in ascending k order, one
// rounded multiply and one rounded add per step (the build has no FMA contraction), exactly as
// the naive triple loop does. Blocking changes which elements are computed together, never the
// order of any element's sum, so the result is the same bit for bit on every blocking, CPU and
// vector width; tests/kernels/test_gemm.cpp checks it against ref::gemm_accumulate.
#pragma once

#include <cstdint>

#include "kernels/matrix_view.hpp"

namespace embedkit::kernels::cpu {

// C[m, n] += sum_k A[i, k] * B[k, j] for C row-major with leading dimension ldc.
void gemm_accumulate(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a, MatrixView b,
                     float* c, std::int64_t ldc);

}  // namespace embedkit::kernels::cpu
