#include "kernels/cpu/kmeans_cpu.hpp"

#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/kmeans_steps.hpp"

namespace embedkit::kernels::cpu {

namespace {

// Centroids [k, d] transposed to [d, k].
std::vector<float> transposed(const float* c, std::int64_t k, std::int64_t d) {
  std::vector<float> t(static_cast<std::size_t>(k * d));
  for (std::int64_t m = 0; m < k; ++m) {
    for (std::int64_t j = 0; j < d; ++j) t[static_cast<std::size_t>(j * k + m)] = c[m * d + j];
  }
  return t;
}

// The reference's nearest_centroid over transposed centroids; `distance` is k floats of scratch.
std::int32_t nearest(const float* p, const float* t, std::int64_t k, std::int64_t d,
                     float* distance) {
  std::fill(distance, distance + k, 0.0f);
  for (std::int64_t j = 0; j < d; ++j) {
    const float v = p[j];
    const float* col = t + j * k;
    for (std::int64_t m = 0; m < k; ++m) {
      const float diff = v - col[m];
      distance[m] += diff * diff;
    }
  }
  std::int32_t best = 0;
  for (std::int64_t m = 1; m < k; ++m) {
    if (distance[m] < distance[best]) best = static_cast<std::int32_t>(m);
  }
  return best;
}

}  // namespace

void kmeans(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride, std::int64_t k,
            std::int64_t iterations, std::int64_t max_points, std::uint64_t seed, float* c) {
  if (kmeans_detail::distinct_points(x, n, d, stride, k, c)) return;
  const std::vector<float> sample = kmeans_detail::sample_points(x, n, d, stride, max_points, seed);
  x = sample.data();
  n = static_cast<std::int64_t>(sample.size()) / d;
  stride = d;
  kmeans_detail::start_centroids(x, n, d, k, seed, c);
  std::vector<std::int32_t> codes(static_cast<std::size_t>(n));
  std::vector<float> distance(static_cast<std::size_t>(k));
  for (std::int64_t it = 0; it < iterations; ++it) {
    const std::vector<float> t = transposed(c, k, d);
    for (std::int64_t i = 0; i < n; ++i) {
      codes[static_cast<std::size_t>(i)] = nearest(x + i * stride, t.data(), k, d, distance.data());
    }
    kmeans_detail::m_step(x, n, d, stride, k, codes, c);
  }
}

void nearest_centroids(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride,
                       const float* c, std::int64_t k, std::uint8_t* codes,
                       std::int64_t code_stride) {
  const std::vector<float> t = transposed(c, k, d);
  parallel_for(n, 4096, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> distance(static_cast<std::size_t>(k));
    for (std::int64_t i = begin; i < end; ++i) {
      codes[i * code_stride] =
          static_cast<std::uint8_t>(nearest(x + i * stride, t.data(), k, d, distance.data()));
    }
  });
}

}  // namespace embedkit::kernels::cpu
