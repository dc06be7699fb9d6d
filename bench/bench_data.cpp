#include "bench_data.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <tuple>

#include "embedkit/core/thread_pool.hpp"

namespace embedkit::bench {

std::string dist_name(Dist d) {
  return d == Dist::Uniform ? "uniform" : "zipf1.05";
}

const Tensor& table(std::int64_t rows, std::int64_t dim, bool huge_pages) {
  static std::tuple<std::int64_t, std::int64_t, bool> key{-1, -1, false};
  static Tensor t;
  const auto wanted = std::make_tuple(rows, dim, huge_pages);
  if (key != wanted) {
    t = Tensor();  // free the old table before making a new one
    t = Tensor::empty({rows, dim}, DType::Float32, MemoryOptions{huge_pages});
    float* w = t.data<float>();
    // Cheap deterministic values in [-1, 1), written in parallel (first touch spreads pages).
    parallel_for(rows * dim, 1 << 16, [&](std::int64_t b, std::int64_t e) {
      std::uint64_t x = 0x9e3779b97f4a7c15ull ^ static_cast<std::uint64_t>(b);
      for (std::int64_t i = b; i < e; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w[i] = static_cast<float>(static_cast<std::int64_t>(x >> 40) - (1 << 23)) * 0x1p-23f;
      }
    });
    key = wanted;
  }
  return t;
}

namespace {

// Zipf(s) over ranks 1..n by inverse CDF.
class Zipf {
 public:
  Zipf(std::int64_t n, double s) : cdf_(static_cast<std::size_t>(n)) {
    double sum = 0;
    for (std::int64_t k = 0; k < n; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
      cdf_[static_cast<std::size_t>(k)] = sum;
    }
    for (double& c : cdf_) c /= sum;
  }
  template <class Rng>
  std::int64_t operator()(Rng& rng) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    return std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
  }

 private:
  std::vector<double> cdf_;
};

}  // namespace

const Tensor& ids(std::int64_t n, std::int64_t rows, Dist dist) {
  static std::map<std::tuple<std::int64_t, std::int64_t, Dist>, Tensor> cache;
  const auto key = std::make_tuple(n, rows, dist);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::mt19937_64 rng(12345);
  if (dist == Dist::Uniform) {
    std::uniform_int_distribution<std::int64_t> u(0, rows - 1);
    for (auto& x : v) x = u(rng);
  } else {
    Zipf z(rows, 1.05);
    // rank -> row: multiplication by a large odd constant modulo rows, a bijection whenever
    // gcd(constant, rows) == 1 (checked; else fall back to the next odd constant).
    std::int64_t mult = 2654435761;
    while (std::gcd(mult, rows) != 1) mult += 2;
    // rank < 2^31 and mult < 2^32: the product fits in 64 bits.
    for (auto& x : v) {
      const auto rank = static_cast<std::uint64_t>(z(rng));
      x = static_cast<std::int64_t>(rank * static_cast<std::uint64_t>(mult) %
                                    static_cast<std::uint64_t>(rows));
    }
  }
  return cache.emplace(key, Tensor::from_vector(v)).first->second;
}

const Tensor& offsets(std::int64_t n, std::int64_t bag) {
  static std::map<std::pair<std::int64_t, std::int64_t>, Tensor> cache;
  const auto key = std::make_pair(n, bag);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  std::vector<std::int64_t> v;
  for (std::int64_t b = 0; b < n; b += bag) v.push_back(b);
  return cache.emplace(key, Tensor::from_vector(v)).first->second;
}

}  // namespace embedkit::bench
