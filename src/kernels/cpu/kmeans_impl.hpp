// The nearest-centroid search of k-means (kmeans_kernels.hpp), written once over a lane type V
// (vec_generic.hpp, vec_avx2.hpp, vec_avx512.hpp) and compiled once per instruction set, like
// kernels_impl.hpp.
//
// Lane l of a pass over the centroids holds centroids l, l + N, l + 2N, ..: each lane sums its
// centroid's distance over the d values in order (what ref::nearest_centroid does for one
// centroid) and keeps the smallest so far with its index, replacing it only when strictly
// smaller, so each lane ends with the lowest index among its smallest distances. The lanes are
// then reduced to the smallest distance, ties to the lowest index: the reference's arg-min. P
// points (two) go through one pass together, so each load of centroid values serves P points and
// the P arg-min scans, each a chain of compare and blend, overlap.
#pragma once

#include <cstdint>
#include <limits>

#include "kernels/cpu/inline.hpp"
#include "kernels/cpu/kmeans_kernels.hpp"

namespace embedkit::kernels::cpu::kimpl {

// The nearest centroids of the P points at x, x + stride, ..; D > 0 is d known at compile time.
template <class V, int P, int D>
EMBEDKIT_ALWAYS_INLINE void nearest_points(const float* x, std::int64_t d, std::int64_t stride,
                                           const float* t, std::int64_t kp, std::int32_t* codes) {
  using T = typename V::T;
  constexpr int kN = V::N;
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  if constexpr (D > 0) d = D;
  float lane[kN];
  for (int l = 0; l < kN; ++l) lane[l] = static_cast<float>(l);
  const T step = V::set1(static_cast<float>(kN));
  T idx = V::load(lane);
  T best[P];
  T best_idx[P];
  for (int q = 0; q < P; ++q) {
    best[q] = V::set1(kInfinity);
    best_idx[q] = idx;
  }
  for (std::int64_t m = 0; m < kp; m += kN) {
    // The reference adds the first square to +0.0f, which leaves it as it is (a square is
    // never -0), so the sum starts from the first square.
    T s[P];
    const T c0 = V::load(t + m);
    for (int q = 0; q < P; ++q) {
      const T diff = V::sub(V::set1(x[q * stride]), c0);
      s[q] = V::mul(diff, diff);
    }
    for (std::int64_t j = 1; j < d; ++j) {
      const T c = V::load(t + j * kp + m);
      for (int q = 0; q < P; ++q) {
        const T diff = V::sub(V::set1(x[q * stride + j]), c);
        s[q] = V::add(s[q], V::mul(diff, diff));
      }
    }
    for (int q = 0; q < P; ++q) V::keep_less(best[q], best_idx[q], s[q], idx);
    idx = V::add(idx, step);
  }
  // Lanes that never took a distance hold +inf with their first index, which no real
  // centroid's distance can lose to: +inf is the largest, and ties go to the lower index.
  for (int q = 0; q < P; ++q)
    codes[q] = static_cast<std::int32_t>(V::first_min_index(best[q], best_idx[q]));
}

template <class V, int D>
void nearest_d(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride, const float* t,
               std::int64_t kp, std::int32_t* codes) {
  // Two points a pass: 43 ns a point (d 2, 256 centroids, AVX2) against 57 for one and 62-72
  // for three to six, whose accumulators no longer fit the 16 registers.
  constexpr int kPoints = 2;
  std::int64_t i = 0;
  for (; i + kPoints <= n; i += kPoints) {
    nearest_points<V, kPoints, D>(x + i * stride, d, stride, t, kp, codes + i);
  }
  for (; i < n; ++i) nearest_points<V, 1, D>(x + i * stride, d, stride, t, kp, codes + i);
}

template <class V>
void nearest(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride, const float* t,
             std::int64_t kp, std::int32_t* codes) {
  // fastText's sub-vectors are 2 wide (its default dsub, and the output's), the norms 1.
  switch (d) {
    case 1:
      return nearest_d<V, 1>(x, n, d, stride, t, kp, codes);
    case 2:
      return nearest_d<V, 2>(x, n, d, stride, t, kp, codes);
    case 4:
      return nearest_d<V, 4>(x, n, d, stride, t, kp, codes);
    default:
      return nearest_d<V, 0>(x, n, d, stride, t, kp, codes);
  }
}

template <class V>
constexpr KmeansIsaKernels make_kmeans_table() {
  KmeansIsaKernels k{};
  k.nearest = &nearest<V>;
  return k;
}

}  // namespace embedkit::kernels::cpu::kimpl
