// Squared row norms (row_norms.hpp): a portable loop and, on x86 with AVX2, sixteen rows at a
// time with one row per double lane.
#include "kernels/cpu/row_norms.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/isa.hpp"
#include "kernels/ref/row_norms_ref.hpp"

#if defined(EMBEDKIT_X86_KERNELS)
#include <immintrin.h>
#endif

namespace embedkit::kernels::cpu {
namespace {

#if defined(EMBEDKIT_X86_KERNELS)
// Rows taken together: four groups of four, one ymm accumulator (four rows' sums) per group, so
// four independent chains of adds are in flight.
constexpr std::int64_t kRowsAtOnce = 16;

// Each step loads four columns of four rows, transposes them so that a register holds one
// column of the four rows, widens it to double and adds the squares column after column: every
// lane adds its own row's squares in ascending column order, as the reference does. The fused
// multiply-add is the reference's separate multiply and add: a float's square is exact in double
// (24-bit significands, a 48-bit product), so only the add rounds, in both.
__attribute__((target("avx2,fma"))) void squared_row_norms_avx2(const float* rows,
                                                                std::int64_t count,
                                                                std::int64_t dim, double* sums) {
  std::int64_t i = 0;
  for (; i + kRowsAtOnce <= count; i += kRowsAtOnce) {
    const float* block = rows + i * dim;
    __m256d acc[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(),
                      _mm256_setzero_pd()};
    std::int64_t j = 0;
    for (; j + 4 <= dim; j += 4) {
      for (int g = 0; g < 4; ++g) {
        const float* q = block + 4 * g * dim + j;
        __m128 c0 = _mm_loadu_ps(q);
        __m128 c1 = _mm_loadu_ps(q + dim);
        __m128 c2 = _mm_loadu_ps(q + 2 * dim);
        __m128 c3 = _mm_loadu_ps(q + 3 * dim);
        _MM_TRANSPOSE4_PS(c0, c1, c2, c3);  // c0: column j of the four rows, c1: j + 1, ...
        for (const __m128 column : {c0, c1, c2, c3}) {
          const __m256d x = _mm256_cvtps_pd(column);
          acc[g] = _mm256_fmadd_pd(x, x, acc[g]);
        }
      }
    }
    double* out = sums + i;
    for (int g = 0; g < 4; ++g) _mm256_storeu_pd(out + 4 * g, acc[g]);
    for (; j < dim; ++j) {  // the last dim % 4 columns, still in ascending order
      for (std::int64_t k = 0; k < kRowsAtOnce; ++k) {
        const double x = block[k * dim + j];
        out[k] += x * x;
      }
    }
  }
  ref::squared_row_norms(rows + i * dim, count - i, dim, sums + i);
}
#endif

}  // namespace

void squared_row_norms(const float* rows, std::int64_t count, std::int64_t dim, double* sums) {
#if defined(EMBEDKIT_X86_KERNELS)
  if (active_isa() != Isa::Generic) {
    squared_row_norms_avx2(rows, count, dim, sums);
    return;
  }
#endif
  ref::squared_row_norms(rows, count, dim, sums);
}

std::int64_t inverse_row_norms(const float* rows, std::int64_t count, std::int64_t dim,
                               float* inverse) {
  // Blocks of rows whose sums stay on the stack (KeyedVectors asks for one norm block at a time).
  constexpr std::int64_t kBlock = 256;
  double sums[kBlock];
  for (std::int64_t begin = 0; begin < count; begin += kBlock) {
    const std::int64_t n = std::min(kBlock, count - begin);
    squared_row_norms(rows + begin * dim, n, dim, sums);
    for (std::int64_t i = 0; i < n; ++i) {
      const double s = sums[i];
      if (!std::isfinite(s)) return begin + i;
      inverse[begin + i] = s > 0.0 ? static_cast<float>(1.0 / std::sqrt(s)) : 0.0f;
    }
  }
  return count;
}

}  // namespace embedkit::kernels::cpu
