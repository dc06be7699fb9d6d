// A trained recommender: a MatrixFactorization plus the id maps that name its rows, each
// user's training items (excluded from recommendations) and the training rating range.
//
// Unknown ids (a user or item the training ratings never mentioned) are never mapped to a row:
//   - rating prediction falls back to the parts of the model that are known: the global bias
//     plus the known user's or item's bias (just the global bias when both are unknown); the
//     evaluation counts each case;
//   - top-N for an unknown user (a user with no ratings) ranks items by g + b_i alone (for the
//     rating objective, the bias-only rating prediction; "cold" in the results);
//   - similar items for an unknown item is a KeyError (a ValueError) naming the id.
// Rating predictions of the rating objective are clipped to the training rating range.
//
// Files: Recommender::save writes an io checkpoint (safetensors, atomic) holding the five tables,
// "rated.offsets"/"rated.items" (each user's training items, CSR, int64) and metadata:
// "embedkit.recommender" = "1", the objective, the rating range, the training options, and the
// user and item ids joined with newlines (ids cannot contain a newline). save() refuses
// (ValueError, before touching the file) tables holding NaN or an infinity. Recommender::load
// checks everything (IoError naming the file and the problem) before it returns a model: every
// size in the metadata against the tensors in the file before anything is allocated from it,
// the rated-items index, and finite tables (a non-finite one is named).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/models/id_map.hpp"
#include "embedkit/models/matrix_factorization.hpp"
#include "embedkit/models/ratings.hpp"

namespace embedkit::models {

struct Recommender {
  IdMap users;
  IdMap items;
  MatrixFactorization model;
  std::vector<std::vector<std::int64_t>> rated;  // per user row: training item rows, sorted
  float rating_min = 0.0f;
  float rating_max = 0.0f;

  // Saves the model in one file, atomically (see the top of this file).
  void save(const std::filesystem::path& path) const;
  // Loads a saved model; IoError naming the file and the problem for a file that is not one.
  static Recommender load(const std::filesystem::path& path);
};

// Training ratings as table rows: user and item ids mapped to rows in order of first
// appearance, and the range of the ratings (for clamping predictions).
struct IndexedRatings {
  IdMap users;
  IdMap items;
  Interactions data;
  float rating_min = 0.0f;
  float rating_max = 0.0f;
};
// ValueError for no ratings.
IndexedRatings index_ratings(const std::vector<Rating>& train);
// The recommender around `model` for `indexed`: its id maps, the model, the rating range and
// each user's training items (sorted, without repeats).
Recommender make_recommender(const IndexedRatings& indexed, MatrixFactorization model);

// Maps the ids to rows (in order of first appearance) and trains (TrainingDivergedError when the
// loss or the tables become NaN or infinite; on_epoch and between_batches as in
// MatrixFactorization::fit).
Recommender train_recommender(const std::vector<Rating>& train, const MfOptions& options,
                              const std::function<void(const MfEpochReport&)>& on_epoch = {},
                              const std::function<void()>& between_batches = {});

struct RatingPrediction {
  float value = 0.0f;
  bool user_known = false;
  bool item_known = false;
};
RatingPrediction predict_rating(const Recommender& r, std::string_view user, std::string_view item);

struct RatingMetrics {
  double rmse = 0.0;
  double mae = 0.0;
  std::int64_t count = 0;
  std::int64_t unknown_user = 0;  // user unknown, item known
  std::int64_t unknown_item = 0;  // item unknown, user known
  std::int64_t unknown_both = 0;
  double baseline_rmse = 0.0;  // predicting the global bias (mean training rating) for all
};
RatingMetrics evaluate_ratings(const Recommender& r, const std::vector<Rating>& test);

struct RankingMetrics {
  double recall = 0.0;  // mean over evaluated users
  double ndcg = 0.0;
  std::int64_t k = 10;
  std::int64_t users = 0;          // users with at least one relevant test item
  std::int64_t cold_users = 0;     // of those, users unknown to the model (bias ranking)
  std::int64_t unknown_items = 0;  // relevant (user, item) pairs whose item is unknown:
                                   // they count as misses
};
// Relevant items of a user: their test items rated >= min_rating (all by default). Items the
// user rated in training are excluded from the ranking.
RankingMetrics evaluate_ranking(const Recommender& r, const std::vector<Rating>& test,
                                std::int64_t k = 10,
                                double min_rating = -std::numeric_limits<double>::infinity());

struct Recommendation {
  std::string item;
  std::int64_t row = 0;
  float score = 0.0f;  // the ranking score itself (recommend: unclipped; similar_items: cosine)
  // recommend with the rating objective: the predicted rating, the score clipped to the training
  // rating range (ties at the top of the range, so not what ranks); NaN otherwise.
  float predicted_rating = std::numeric_limits<float>::quiet_NaN();
};
struct TopN {
  bool cold = false;  // the user is unknown: ranked by item bias alone
  std::vector<Recommendation> items;
};
// The k best items the user has not rated in training (ties: lower row first).
TopN recommend(const Recommender& r, std::string_view user, std::int64_t k);

// The k items nearest to `item` by cosine of the item factors (KeyError for an unknown id).
std::vector<Recommendation> similar_items(const Recommender& r, std::string_view item,
                                          std::int64_t k);

}  // namespace embedkit::models
