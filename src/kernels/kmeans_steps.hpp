// The parts of k-means (product quantization's training, fastText's ProductQuantizer::kmeans)
// that the reference and the fast twin share: the sample, the start, the M-step and the exact
// case. Only the
// E-step, the nearest centroid of every point, differs between them (ref/kmeans_ref.hpp,
// cpu/kmeans_cpu.hpp), and it gives bitwise the same codes.
//
// The contract of every k-means kernel: x holds n >= 1 points of d >= 1 floats (row-major, row
// stride `stride` >= d), all finite; c receives k >= 1 centroids [k, d] row-major.
//   - When the points hold at most k distinct values, the centroids are those values in order of
//     first appearance, the rest copies of the last one: every point is its own centroid, exactly
//     (ties go to the lower index, so the copies are never chosen).
//   - Otherwise Lloyd's iterations on a sample of at most max_points points (sample_points;
//   fastText
//     trains on 256 points a centroid, max_points 65536), from a k-means++ start drawn from the
//     sample (start_centroids; fastText starts from k points drawn uniformly): E-step (nearest
//     centroid by squared distance, summed over the d values in order, ties to the lower index),
//     M-step (each centroid the mean of its points, summed in point order); a centroid left without
//     points takes half of the largest cluster: a copy of its centroid, the two moved apart by a
//     relative 1e-6 (fastText's split, made deterministic).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "embedkit/core/generator.hpp"

namespace embedkit::kernels::kmeans_detail {

// The distinct points of x in order of first appearance, into c, when there are at most k of
// them (then the rest of c copies the last and true is returned); false otherwise.
inline bool distinct_points(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride,
                            std::int64_t k, float* c) {
  std::int64_t found = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* p = x + i * stride;
    bool seen = false;
    for (std::int64_t f = 0; f < found && !seen; ++f) {
      seen = std::equal(p, p + d, c + f * d);
    }
    if (seen) continue;
    if (found == k) return false;
    std::copy(p, p + d, c + found * d);
    ++found;
  }
  for (std::int64_t f = found; f < k; ++f) std::copy(c + (found - 1) * d, c + found * d, c + f * d);
  return true;
}

// At most max_points points of x (all when n <= max_points), contiguous [np, d]: the first np of
// a Fisher-Yates shuffle drawn from Generator(seed). Lloyd's iterations run on them.
inline std::vector<float> sample_points(const float* x, std::int64_t n, std::int64_t d,
                                        std::int64_t stride, std::int64_t max_points,
                                        std::uint64_t seed) {
  const std::int64_t np = std::min(n, max_points);
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), std::int64_t{0});
  Generator gen(seed);
  std::vector<float> out(static_cast<std::size_t>(np * d));
  for (std::int64_t i = 0; i < np; ++i) {
    const auto j =
        i + static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(n - i));
    std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
    const float* p = x + perm[static_cast<std::size_t>(i)] * stride;
    std::copy(p, p + d, out.begin() + i * d);
  }
  return out;
}

// Squared distance of point p to centroid q, summed in order (the arithmetic both twins do).
inline float squared_distance(const float* p, const float* q, std::int64_t d) {
  float s = 0;
  for (std::int64_t j = 0; j < d; ++j) {
    const float t = p[j] - q[j];
    s += t * t;
  }
  return s;
}

// The generator of the k-means++ start, from the caller's seed (both twins draw from it).
inline Generator start_generator(std::uint64_t seed) {
  return Generator(seed ^ 0x2b992ddfa23249d6ULL);
}

// The first k-means++ centroid: a point of the n drawn uniformly.
inline std::int64_t draw_first_point(Generator& gen, std::int64_t n) {
  return static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(n));
}

// The next k-means++ centroid: the point on which a uniform draw over [0, total) lands when the
// points' squared distances to their nearest centroid (nearest[0..n), summing to total in point
// order) are laid end to end; a uniform point when every point already sits on a centroid
// (total 0). Both twins call this, so they pick the same points.
inline std::int64_t draw_next_point(Generator& gen, const double* nearest, std::int64_t n,
                                    double total) {
  if (!(total > 0)) return draw_first_point(gen, n);
  double target = gen.uniform() * total;
  for (std::int64_t i = 0; i < n; ++i) {
    target -= nearest[i];
    if (target < 0) return i;
  }
  return n - 1;
}

// k-means++ (Arthur and Vassilvitskii 2007) over the sample x [n, d], n > k: the first centroid
// a point drawn uniformly, each next one a point drawn with probability proportional to its
// squared distance to the nearest centroid so far (in double, summed in point order). Lloyd's
// iterations from a uniform draw (fastText's start) leave clusters merged and others split: on
// 256 separated clusters about a seventh of the points ended far from their own.
inline void start_centroids(const float* x, std::int64_t n, std::int64_t d, std::int64_t k,
                            std::uint64_t seed, float* c) {
  Generator gen = start_generator(seed);
  std::vector<double> nearest(static_cast<std::size_t>(n), 0.0);
  auto take = [&](std::int64_t m, std::int64_t point) {
    std::copy(x + point * d, x + point * d + d, c + m * d);
    for (std::int64_t i = 0; i < n; ++i) {
      const double s = squared_distance(x + i * d, c + m * d, d);
      if (m == 0 || s < nearest[static_cast<std::size_t>(i)])
        nearest[static_cast<std::size_t>(i)] = s;
    }
  };
  take(0, draw_first_point(gen, n));
  for (std::int64_t m = 1; m < k; ++m) {
    double total = 0;
    for (const double v : nearest) total += v;
    take(m, draw_next_point(gen, nearest.data(), n, total));
  }
}

inline void m_step(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride,
                   std::int64_t k, const std::vector<std::int32_t>& codes, float* c) {
  std::vector<std::int64_t> count(static_cast<std::size_t>(k), 0);
  std::fill(c, c + k * d, 0.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t code = codes[static_cast<std::size_t>(i)];
    const float* p = x + i * stride;
    float* q = c + code * d;
    for (std::int64_t j = 0; j < d; ++j) q[j] += p[j];
    ++count[static_cast<std::size_t>(code)];
  }
  for (std::int64_t m = 0; m < k; ++m) {
    const auto z = static_cast<float>(count[static_cast<std::size_t>(m)]);
    if (z == 0) continue;
    for (std::int64_t j = 0; j < d; ++j) c[m * d + j] /= z;
  }
  for (std::int64_t m = 0; m < k; ++m) {
    if (count[static_cast<std::size_t>(m)] != 0) continue;
    const auto largest =
        static_cast<std::int64_t>(std::max_element(count.begin(), count.end()) - count.begin());
    float* a = c + m * d;
    float* b = c + largest * d;
    for (std::int64_t j = 0; j < d; ++j) {
      const float eps = 1e-6f * std::max(std::fabs(b[j]), 1e-6f) * (j % 2 == 0 ? 1.0f : -1.0f);
      a[j] = b[j] + eps;
      b[j] = b[j] - eps;
    }
    const std::int64_t half = count[static_cast<std::size_t>(largest)] / 2;
    count[static_cast<std::size_t>(m)] = half;
    count[static_cast<std::size_t>(largest)] -= half;
  }
}

}  // namespace embedkit::kernels::kmeans_detail
