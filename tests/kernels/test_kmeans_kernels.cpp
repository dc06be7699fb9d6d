// kernels::cpu::kmeans and nearest_centroids (kmeans_cpu.hpp) against the reference twin
// (ref/kmeans_ref.hpp), bit for bit: widths 1 to 9 (product quantization's sub-vectors), strided
// points, samples smaller and larger than the points, clusters that empty, 1 and 3 threads.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/kmeans_cpu.hpp"
#include "kernels/ref/kmeans_ref.hpp"

namespace embedkit::kernels::test {
namespace {

std::vector<float> normal_points(std::int64_t n, std::int64_t stride, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(n * stride));
  for (float& v : x) v = normal(rng);
  return x;
}

TEST(KMeansKernels, FastTwinEqualsReferenceBitwise) {
  for (const int threads : {1, 3}) {
    set_num_threads(threads);
    for (const std::int64_t d : {1, 2, 3, 4, 8, 9}) {
      for (const std::int64_t n : {300, 2000}) {
        for (const std::int64_t max_points : {500, 100000}) {
          const std::int64_t stride = d + 3;  // a sub-vector inside a wider row
          const auto x = normal_points(n, stride, static_cast<std::uint32_t>(n + d));
          const std::int64_t k = 256;
          std::vector<float> a(static_cast<std::size_t>(k * d)), b(a.size());
          ref::kmeans(x.data() + 1, n, d, stride, k, 10, max_points, 7, a.data());
          cpu::kmeans(x.data() + 1, n, d, stride, k, 10, max_points, 7, b.data());
          ASSERT_EQ(a, b) << "d " << d << " n " << n << " max_points " << max_points;
          std::vector<std::uint8_t> codes(static_cast<std::size_t>(n * 2), 0);
          cpu::nearest_centroids(x.data() + 1, n, d, stride, b.data(), k, codes.data(), 2);
          for (std::int64_t i = 0; i < n; ++i) {
            ASSERT_EQ(codes[static_cast<std::size_t>(2 * i)],
                      ref::nearest_centroid(x.data() + 1 + i * stride, a.data(), k, d))
                << "point " << i;
            ASSERT_EQ(codes[static_cast<std::size_t>(2 * i + 1)], 0);  // code_stride respected
          }
        }
      }
    }
  }
  set_num_threads(1);
}

TEST(KMeansKernels, EmptyClustersAreSplitTheSameWay) {
  // 1000 points on 300 distinct values, most of them on 3: clusters empty during the iterations.
  std::vector<float> x;
  for (int i = 0; i < 1000; ++i)
    x.push_back(i < 300 ? static_cast<float>(i) : static_cast<float>(i % 3));
  std::vector<float> a(256), b(256);
  ref::kmeans(x.data(), 1000, 1, 1, 256, 25, 65536, 3, a.data());
  cpu::kmeans(x.data(), 1000, 1, 1, 256, 25, 65536, 3, b.data());
  EXPECT_EQ(a, b);
}

TEST(KMeansKernels, SameSeedSameCentroidsOtherSeedOthers) {
  const auto x = normal_points(3000, 2, 5);
  std::vector<float> a(512), b(512), c(512);
  cpu::kmeans(x.data(), 3000, 2, 2, 256, 5, 65536, 11, a.data());
  cpu::kmeans(x.data(), 3000, 2, 2, 256, 5, 65536, 11, b.data());
  cpu::kmeans(x.data(), 3000, 2, 2, 256, 5, 65536, 12, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace embedkit::kernels::test
