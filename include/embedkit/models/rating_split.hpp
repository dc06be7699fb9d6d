// Holding out ratings for evaluation.
//   - Random: a seeded shuffle (Fisher-Yates over embedkit's Generator, so the same seed gives
//     the same split on every platform); round(test_fraction * n) ratings go to the test set.
//   - UserTime: per user, the user's latest round(test_fraction * count) ratings (by timestamp,
//     then file line) go to the test set; a user with few ratings may keep them all in train.
//   - GlobalTime: the latest round(test_fraction * n) ratings overall (by timestamp, then line),
//     or, when cut_timestamp is given, every rating with timestamp >= cut_timestamp.
// Both parts keep file order. The time splits need timestamps (ValueError otherwise).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "embedkit/models/ratings.hpp"

namespace embedkit::models {

enum class SplitMethod { Random, UserTime, GlobalTime };

struct SplitOptions {
  SplitMethod method = SplitMethod::Random;
  double test_fraction = 0.2;  // in [0, 1)
  std::uint64_t seed = 42;
  std::optional<std::int64_t> cut_timestamp;  // GlobalTime only (ValueError otherwise)
};

struct RatingsSplit {
  std::vector<Rating> train;
  std::vector<Rating> test;
};

RatingsSplit split_ratings(const Ratings& ratings, const SplitOptions& options);

}  // namespace embedkit::models
