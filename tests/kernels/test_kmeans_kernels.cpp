// kernels::cpu::kmeans and nearest_centroids (kmeans_cpu.hpp) against the reference twin
// (ref/kmeans_ref.hpp), bit for bit: widths 1 to 9 (product quantization's sub-vectors), strided
// points, samples smaller and larger than the points, clusters that empty, 1 and 3 threads; and
// the nearest-centroid kernel (kmeans_kernels.hpp) at every instruction-set level and thread
// count: centroid counts below, at and past a multiple of the lanes, widths 1 to 17, point counts
// that leave a partial group of points, ties between equal and equidistant centroids, distances
// that overflow to infinity.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "embedkit/core/thread_pool.hpp"
#include "kernel_test_support.hpp"
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

// ref::nearest_centroid of each point, as nearest_centroids' uint8 codes must be.
std::vector<std::uint8_t> reference_codes(const float* x, std::int64_t n, std::int64_t d,
                                          std::int64_t stride, const float* c, std::int64_t k) {
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    codes[static_cast<std::size_t>(i)] =
        static_cast<std::uint8_t>(ref::nearest_centroid(x + i * stride, c, k, d));
  }
  return codes;
}

std::vector<std::uint8_t> fast_codes(const float* x, std::int64_t n, std::int64_t d,
                                     std::int64_t stride, const float* c, std::int64_t k) {
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n), 0xee);
  cpu::nearest_centroids(x, n, d, stride, c, k, codes.data(), 1);
  return codes;
}

using KMeansLevels = KernelTest;

TEST_P(KMeansLevels, NearestCentroidsEqualReference) {
  for (const std::int64_t d : {1, 2, 3, 4, 5, 8, 16, 17}) {
    for (const std::int64_t k : {1, 7, 16, 17, 200, 255, 256}) {
      // 4099 points: groups of 4 plus 3, and chunks of the pool that are not whole groups.
      for (const std::int64_t n : {1, 3, 4, 5, 4099}) {
        const std::int64_t stride = d + 1;
        const auto x = normal_points(n, stride, static_cast<std::uint32_t>(d * 1000 + n));
        const auto c = normal_points(k, d, static_cast<std::uint32_t>(k + 17 * d));
        ASSERT_EQ(fast_codes(x.data(), n, d, stride, c.data(), k),
                  reference_codes(x.data(), n, d, stride, c.data(), k))
            << "d " << d << " k " << k << " n " << n;
      }
    }
  }
}

TEST_P(KMeansLevels, TiesGoToTheLowerIndex) {
  // Points and centroids on a small integer grid: centroids repeat (equal distances from every
  // point) and points sit halfway between centroids, so most points have several nearest ones.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> grid(-3, 3);
  for (const std::int64_t d : {1, 2, 3}) {
    for (const std::int64_t k : {9, 256}) {
      const std::int64_t n = 1001;
      std::vector<float> x(static_cast<std::size_t>(n * d)), c(static_cast<std::size_t>(k * d));
      for (float& v : x) v = static_cast<float>(grid(rng));
      for (float& v : c) v = static_cast<float>(2 * grid(rng) + 1);  // odd: points tie between
      const auto expected = reference_codes(x.data(), n, d, d, c.data(), k);
      ASSERT_EQ(fast_codes(x.data(), n, d, d, c.data(), k), expected) << "d " << d << " k " << k;
      // The same centroids all equal: every point takes centroid 0.
      std::vector<float> same(static_cast<std::size_t>(k * d), 0.5f);
      ASSERT_EQ(fast_codes(x.data(), n, d, d, same.data(), k),
                std::vector<std::uint8_t>(static_cast<std::size_t>(n), 0));
    }
  }
}

TEST_P(KMeansLevels, InfiniteDistancesTieAtTheFirstCentroid) {
  // Finite values whose squared differences overflow: every distance is +inf except to the
  // centroids on the point's own side, so the far points take centroid 0 like the reference.
  const std::int64_t k = 40;
  std::vector<float> c(static_cast<std::size_t>(k));
  for (std::int64_t m = 0; m < k; ++m) c[static_cast<std::size_t>(m)] = m < 30 ? -3e38f : 3e38f;
  const std::vector<float> x = {3e38f, -3e38f, 0.0f, 1e30f, 2e38f, -1e20f, 7.0f};
  const auto n = static_cast<std::int64_t>(x.size());
  const auto expected = reference_codes(x.data(), n, 1, 1, c.data(), k);
  EXPECT_EQ(fast_codes(x.data(), n, 1, 1, c.data(), k), expected);
  EXPECT_EQ(expected[0], 30);  // the first centroid on its side
  EXPECT_EQ(expected[2], 0);   // every distance infinite
}

TEST_P(KMeansLevels, KMeansEqualsReference) {
  // Whole k-means at this level: k past a multiple of the lanes and the usual 256, samples that
  // are not a whole number of point groups or pool chunks.
  for (const std::int64_t d : {1, 2, 3, 16}) {
    for (const std::int64_t k : {37, 256}) {
      const std::int64_t n = 3001;
      const auto x = normal_points(n, d, static_cast<std::uint32_t>(d + k));
      std::vector<float> a(static_cast<std::size_t>(k * d)), b(a.size());
      ref::kmeans(x.data(), n, d, d, k, 6, 2999, 5, a.data());
      cpu::kmeans(x.data(), n, d, d, k, 6, 2999, 5, b.data());
      ASSERT_EQ(a, b) << "d " << d << " k " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllLevels, KMeansLevels, ::testing::ValuesIn(all_configs()), config_name);

}  // namespace
}  // namespace embedkit::kernels::test
