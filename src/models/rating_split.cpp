#include "embedkit/models/rating_split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"

namespace embedkit::models {

namespace {

std::size_t rounded_share(double fraction, std::size_t n) {
  return static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n)));
}

}  // namespace

RatingsSplit split_ratings(const Ratings& ratings, const SplitOptions& options) {
  if (!(options.test_fraction >= 0.0 && options.test_fraction < 1.0)) {
    throw ValueError("split_ratings: test_fraction must be in [0, 1), got " +
                     std::to_string(options.test_fraction));
  }
  if (options.cut_timestamp && options.method != SplitMethod::GlobalTime) {
    throw ValueError("split_ratings: a timestamp cut applies to the global time split only");
  }
  const std::vector<Rating>& rows = ratings.rows;
  const std::size_t n = rows.size();
  std::vector<bool> in_test(n, false);
  if (options.method == SplitMethod::Random) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Generator gen(options.seed);
    for (std::size_t i = n; i > 1; --i) {
      const std::size_t j = static_cast<std::size_t>(gen.next_u64() % i);
      std::swap(order[i - 1], order[j]);
    }
    const std::size_t k = rounded_share(options.test_fraction, n);
    for (std::size_t i = 0; i < k; ++i) in_test[order[i]] = true;
  } else {
    if (!ratings.has_timestamps) {
      throw ValueError(ratings.source + ": a time split needs timestamps (a 4th column)");
    }
    auto later = [&rows](std::size_t a, std::size_t b) {
      if (rows[a].timestamp != rows[b].timestamp) return rows[a].timestamp < rows[b].timestamp;
      return a < b;
    };
    if (options.cut_timestamp) {
      for (std::size_t i = 0; i < n; ++i) in_test[i] = rows[i].timestamp >= *options.cut_timestamp;
    } else if (options.method == SplitMethod::GlobalTime) {
      std::vector<std::size_t> order(n);
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::sort(order.begin(), order.end(), later);
      const std::size_t k = rounded_share(options.test_fraction, n);
      for (std::size_t i = n - k; i < n; ++i) in_test[order[i]] = true;
    } else {
      std::unordered_map<std::string, std::vector<std::size_t>> by_user;
      for (std::size_t i = 0; i < n; ++i) by_user[rows[i].user].push_back(i);
      for (auto& [user, idx] : by_user) {
        std::sort(idx.begin(), idx.end(), later);
        const std::size_t k = rounded_share(options.test_fraction, idx.size());
        for (std::size_t i = idx.size() - k; i < idx.size(); ++i) in_test[idx[i]] = true;
      }
    }
  }
  RatingsSplit split;
  for (std::size_t i = 0; i < n; ++i) (in_test[i] ? split.test : split.train).push_back(rows[i]);
  return split;
}

}  // namespace embedkit::models
