// Dot products of float32 rows, in two fixed summation orders: the scores of the vector queries
// (vectors/keyed_vectors.cpp) and the predictions of the recommender
// (models/matrix_factorization.cpp). Each order is part of what those callers return, so each is
// its own entry point with its own twin, never one "dot" whose order could drift.
//
// Inline: the callers run them in their innermost loops (one score per vocabulary row, one
// prediction per training example), where a call per row would cost more than a short dot.
#pragma once

#include <cstdint>

namespace embedkit::kernels::cpu {

// Sum from 0 of a[i] * b[i] in ascending i, one rounded multiply and one rounded add per step:
// one element of gemm_accumulate (gemm.hpp) started from a zero C, bit for bit. A serial chain;
// for short rows (a recommender's factors) where that order is the contract.
inline float dot_ascending(const float* a, const float* b, std::int64_t n) {
  float s = 0.0f;
  for (std::int64_t k = 0; k < n; ++k) s += a[k] * b[k];
  return s;
}

// Eight independent partial sums, so the compiler can vectorize without reassociating one sum:
// ref::dot_eight_lanes (kernels/ref/dot_ref.hpp) says which products each lane adds and how the
// lanes are combined.
inline float dot_eight_lanes(const float* a, const float* b, std::int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

}  // namespace embedkit::kernels::cpu
