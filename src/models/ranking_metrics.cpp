#include "embedkit/models/ranking_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace embedkit::models {

namespace {

std::size_t top(std::span<const std::int64_t> ranked, std::int64_t k) {
  return k <= 0 ? 0 : std::min(ranked.size(), static_cast<std::size_t>(k));
}

}  // namespace

double recall_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                   std::int64_t k) {
  if (relevant.empty()) return 0.0;
  std::size_t hits = 0;
  const std::size_t n = top(ranked, k);
  for (std::size_t r = 0; r < n; ++r) {
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[r])) ++hits;
  }
  return static_cast<double>(hits) / static_cast<double>(relevant.size());
}

double ndcg_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                 std::int64_t k) {
  if (relevant.empty() || k <= 0) return 0.0;
  double dcg = 0.0;
  const std::size_t n = top(ranked, k);
  for (std::size_t r = 0; r < n; ++r) {
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[r])) {
      dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    }
  }
  double idcg = 0.0;
  const std::size_t ideal = std::min(relevant.size(), static_cast<std::size_t>(k));
  for (std::size_t r = 0; r < ideal; ++r) idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
  return dcg / idcg;
}

}  // namespace embedkit::models
