#include "kernels/cpu/kmeans_cpu.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/kmeans_kernels.hpp"
#include "kernels/kmeans_steps.hpp"

namespace embedkit::kernels::cpu {

namespace {

// Points a task of the thread pool takes: a few hundred thousand distances.
constexpr std::int64_t kGrain = 1024;

// The largest padded centroid count the kernel takes (its indices are floats, exact below 2^24).
constexpr std::int64_t kMaxPadded = std::int64_t{1} << 24;

std::int64_t padded(std::int64_t k) {
  return (k + kKmeansLanes - 1) / kKmeansLanes * kKmeansLanes;
}

// Centroids [k, d] transposed to [d, kp], the columns past k NaN (kmeans_kernels.hpp).
std::vector<float> transposed(const float* c, std::int64_t k, std::int64_t d, std::int64_t kp) {
  std::vector<float> t(static_cast<std::size_t>(kp * d), std::numeric_limits<float>::quiet_NaN());
  for (std::int64_t m = 0; m < k; ++m) {
    for (std::int64_t j = 0; j < d; ++j) t[static_cast<std::size_t>(j * kp + m)] = c[m * d + j];
  }
  return t;
}

// The reference's nearest_centroid, for a k too large for the kernel's float indices.
std::int32_t nearest_scalar(const float* p, const float* c, std::int64_t k, std::int64_t d) {
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

// codes[i] = the nearest centroid to point i, for i in [0, n), on the calling thread.
class NearestSearch {
 public:
  NearestSearch(const float* c, std::int64_t k, std::int64_t d)
      : c_(c), k_(k), d_(d), kp_(padded(k)), kernel_(kmeans_isa_kernels().nearest) {
    if (kp_ < kMaxPadded) t_ = transposed(c, k, d, kp_);
  }

  void operator()(const float* x, std::int64_t n, std::int64_t stride, std::int32_t* codes) const {
    if (kp_ < kMaxPadded) {
      kernel_(x, n, d_, stride, t_.data(), kp_, codes);
      return;
    }
    for (std::int64_t i = 0; i < n; ++i) codes[i] = nearest_scalar(x + i * stride, c_, k_, d_);
  }

 private:
  const float* c_;
  std::int64_t k_;
  std::int64_t d_;
  std::int64_t kp_;
  decltype(KmeansIsaKernels::nearest) kernel_;
  std::vector<float> t_;
};

// kmeans_detail::start_centroids, the same draws and sums: each point's distance to the newest
// centroid, its nearest distance and the running total (in point order, from 0, as the
// reference sums them after the pass) in one pass, with d known to the compiler for the usual
// widths. The total's chain of double adds bounds the pass, so the rest comes free beside it.
template <int D>
void start_centroids(const float* x, std::int64_t n, std::int64_t d, std::int64_t k,
                     std::uint64_t seed, float* c) {
  if constexpr (D > 0) d = D;
  Generator gen = kmeans_detail::start_generator(seed);
  std::vector<double> nearest(static_cast<std::size_t>(n), 0.0);
  double* near = nearest.data();
  double total = 0;
  auto take = [&](std::int64_t m, std::int64_t point) {
    const float* q = c + m * d;
    std::copy(x + point * d, x + point * d + d, c + m * d);
    total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double s = kmeans_detail::squared_distance(x + i * d, q, d);
      if (m == 0 || s < near[i]) near[i] = s;
      total += near[i];
    }
  };
  take(0, kmeans_detail::draw_first_point(gen, n));
  for (std::int64_t m = 1; m < k; ++m) take(m, kmeans_detail::draw_next_point(gen, near, n, total));
}

void start_centroids(const float* x, std::int64_t n, std::int64_t d, std::int64_t k,
                     std::uint64_t seed, float* c) {
  switch (d) {
    case 1:
      return start_centroids<1>(x, n, d, k, seed, c);
    case 2:
      return start_centroids<2>(x, n, d, k, seed, c);
    default:
      return start_centroids<0>(x, n, d, k, seed, c);
  }
}

}  // namespace

void kmeans(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride, std::int64_t k,
            std::int64_t iterations, std::int64_t max_points, std::uint64_t seed, float* c) {
  if (kmeans_detail::distinct_points(x, n, d, stride, k, c)) return;
  const std::vector<float> sample = kmeans_detail::sample_points(x, n, d, stride, max_points, seed);
  x = sample.data();
  n = static_cast<std::int64_t>(sample.size()) / d;
  stride = d;
  start_centroids(x, n, d, k, seed, c);
  std::vector<std::int32_t> codes(static_cast<std::size_t>(n));
  for (std::int64_t it = 0; it < iterations; ++it) {
    const NearestSearch search(c, k, d);
    // Each point's code depends only on the point and the centroids: any split gives the same.
    parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
      search(x + begin * stride, end - begin, stride, codes.data() + begin);
    });
    kmeans_detail::m_step(x, n, d, stride, k, codes, c);
  }
}

void nearest_centroids(const float* x, std::int64_t n, std::int64_t d, std::int64_t stride,
                       const float* c, std::int64_t k, std::uint8_t* codes,
                       std::int64_t code_stride) {
  const NearestSearch search(c, k, d);
  parallel_for(n, 4 * kGrain, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::int32_t> chunk(static_cast<std::size_t>(kGrain));
    for (std::int64_t i = begin; i < end; i += kGrain) {
      const std::int64_t count = std::min(kGrain, end - i);
      search(x + i * stride, count, stride, chunk.data());
      for (std::int64_t r = 0; r < count; ++r) {
        codes[(i + r) * code_stride] =
            static_cast<std::uint8_t>(chunk[static_cast<std::size_t>(r)]);
      }
    }
  });
}

}  // namespace embedkit::kernels::cpu
