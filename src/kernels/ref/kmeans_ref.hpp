// k-means for product quantization, the plain reference (contract: ../kmeans_steps.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kmeans_steps.hpp"

namespace embedkit::kernels::ref {

// The nearest of k centroids c [k, d] to point p: the lowest index among the smallest distances.
inline std::int32_t nearest_centroid(const float* p, const float* c, std::int64_t k,
                                     std::int64_t d) {
  std::int32_t best = 0;
  float best_distance = kmeans_detail::squared_distance(p, c, d);
  for (std::int64_t m = 1; m < k; ++m) {
    const float s = kmeans_detail::squared_distance(p, c + m * d, d);
    if (s < best_distance) {
      best_distance = s;
      best = static_cast<std::int32_t>(m);
    }
  }
  return best;
}

inline void kmeans(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride,
                   std::int64_t k, std::int64_t iterations, std::int64_t max_points,
                   std::uint64_t seed, float* c) {
  if (kmeans_detail::distinct_points(x, n, d, stride, k, c)) return;
  const std::vector<float> sample = kmeans_detail::sample_points(x, n, d, stride, max_points, seed);
  x = sample.data();
  n = static_cast<std::int64_t>(sample.size()) / d;
  stride = d;
  kmeans_detail::start_centroids(x, n, d, k, seed, c);
  std::vector<std::int32_t> codes(static_cast<std::size_t>(n));
  for (std::int64_t it = 0; it < iterations; ++it) {
    for (std::int64_t i = 0; i < n; ++i) {
      codes[static_cast<std::size_t>(i)] = nearest_centroid(x + i * stride, c, k, d);
    }
    kmeans_detail::m_step(x, n, d, stride, k, codes, c);
  }
}

}  // namespace embedkit::kernels::ref
