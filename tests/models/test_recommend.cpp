// The recommender: reading ratings (and their errors), splits, ranking metrics, biased matrix
// factorization recovering planted factors, BPR, unknown ids, save/load.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/checkpoint.hpp"
#include "embedkit/models/id_map.hpp"
#include "embedkit/models/item_titles.hpp"
#include "embedkit/models/mf_batches.hpp"
#include "embedkit/models/ranking_metrics.hpp"
#include "embedkit/models/rating_split.hpp"
#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "support/files.hpp"
#include "support/pinned_safetensors.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace M = embedkit::models;
using embedkit_test::TempDir;
using embedkit_test::write_file;

// "u12"-style ids (a helper: GCC 12 misreports "u" + std::to_string(n) under -Wrestrict).
std::string id(char prefix, int n) {
  std::string s(1, prefix);
  s += std::to_string(n);
  return s;
}

// The message of the ValueError `fn` throws ("" when it throws none).
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const embedkit::Error& e) {
    return e.what();
  }
  return "";
}

// ---- reading ----

TEST(Ratings, ReadsMovieLensCsvWithHeader) {
  const M::Ratings r = M::parse_ratings(
      "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n\n"
      "7,\"x,y\",4,5\n",
      "r.csv");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_TRUE(r.has_timestamps);
  EXPECT_EQ(r.rows[0].user, "1");
  EXPECT_EQ(r.rows[0].item, "31");
  EXPECT_FLOAT_EQ(r.rows[0].rating, 2.5f);
  EXPECT_EQ(r.rows[0].timestamp, 1260759144);
  EXPECT_EQ(r.rows[1].line, 3);
  EXPECT_EQ(r.rows[2].item, "x,y");
  EXPECT_EQ(r.rows[2].line, 5);
}

TEST(Ratings, ReadsWhitespaceLinesWithStringIds) {
  const M::Ratings r = M::parse_ratings("alice  matrix 5\nbob\tmatrix\t1.5\n", "r.txt");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_FALSE(r.has_timestamps);
  EXPECT_EQ(r.rows[1].user, "bob");
  EXPECT_EQ(r.rows[1].item, "matrix");
  EXPECT_FLOAT_EQ(r.rows[1].rating, 1.5f);
}

TEST(Ratings, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of([] { M::parse_ratings("a b 1\nc d\n", "f.txt"); }),
            "f.txt:2: expected 3 fields like the first rating line, got 2");
  EXPECT_EQ(error_of([] { M::parse_ratings("userId,movieId,rating\n1,2,abc\n", "f.csv"); }),
            "f.csv:2: rating 'abc' is not a finite number");
  EXPECT_EQ(error_of([] { M::parse_ratings("a b nan\n", "f.txt"); }),
            "f.txt:1: rating 'nan' is not a finite number");
  EXPECT_EQ(error_of([] { M::parse_ratings("a b 1 2 3\n", "f.txt"); }),
            "f.txt:1: expected 2, 3 or 4 fields (user item [rating [timestamp]]), got 5");
  EXPECT_EQ(error_of([] { M::parse_ratings("alice\n", "f.txt"); }),
            "f.txt:1: expected 2, 3 or 4 fields (user item [rating [timestamp]]), got 1");
  EXPECT_EQ(error_of([] { M::parse_ratings("a,b\nc,d,5\n", "f.csv"); }),
            "f.csv:2: expected 2 fields like the first rating line, got 3");
  EXPECT_EQ(error_of([] { M::parse_ratings("1,2,3,x\n", "f.csv"); }),
            "f.csv:1: timestamp 'x' is not a whole number");
  EXPECT_EQ(error_of([] { M::parse_ratings("1,\"2,3\n", "f.csv"); }),
            "f.csv:1: unterminated quoted field");
  EXPECT_EQ(error_of([] { M::parse_ratings(",2,3\n", "f.csv"); }), "f.csv:1: empty user id");
  EXPECT_EQ(error_of([] { M::parse_ratings("", "e.csv"); }), "e.csv: no ratings in the file");
  EXPECT_EQ(error_of([] { M::parse_ratings("userId,movieId,rating\n\n", "h.csv"); }),
            "h.csv: no ratings in the file");
}

// Implicit feedback: "user item" pairs, each rated 1; an "userId,itemId" first line is a header,
// a first pair that only looks like names ("user1,item1") is data.
TEST(Ratings, ReadsUserItemPairsAsImplicitFeedback) {
  const M::Ratings csv = M::parse_ratings("userId,itemId\nu1,i1\nu1,i2\nu2,i1\n", "p.csv");
  EXPECT_TRUE(csv.implicit);
  EXPECT_FALSE(csv.has_timestamps);
  ASSERT_EQ(csv.rows.size(), 3u);
  EXPECT_EQ(csv.rows[0].user, "u1");
  EXPECT_EQ(csv.rows[0].item, "i1");
  EXPECT_EQ(csv.rows[0].line, 2);
  for (const M::Rating& r : csv.rows) EXPECT_EQ(r.rating, 1.0f);
  const M::Ratings plain = M::parse_ratings("user1 item1\nuser2\titem7\n", "p.txt");
  EXPECT_TRUE(plain.implicit);
  ASSERT_EQ(plain.rows.size(), 2u);
  EXPECT_EQ(plain.rows[0].user, "user1");
  EXPECT_EQ(plain.rows[1].item, "item7");
  EXPECT_FALSE(M::parse_ratings("a b 4\n", "r.txt").implicit);
}

TEST(Ratings, MissingFileIsAnIoError) {
  TempDir dir;
  EXPECT_THROW(M::read_ratings(dir.path() / "none.csv"), embedkit::IoError);
}

TEST(Ratings, CsvRoundTrip) {
  TempDir dir;
  const M::Ratings r = M::parse_ratings("u1,\"a,\"\"b\"\"\",4.5,10\nu2,c,1,20\n", "x.csv");
  M::write_ratings_csv(dir.path() / "out.csv", r.rows);
  const M::Ratings back = M::read_ratings(dir.path() / "out.csv");
  ASSERT_EQ(back.rows.size(), 2u);
  EXPECT_EQ(back.rows[0].item, "a,\"b\"");
  EXPECT_FLOAT_EQ(back.rows[0].rating, 4.5f);
  EXPECT_EQ(back.rows[1].timestamp, 20);
}

TEST(ItemTitles, ReadsQuotedTitlesWithCommas) {
  TempDir dir;
  write_file(dir.path() / "movies.csv",
             "movieId,title,genres\n1,Toy Story (1995),Comedy\n"
             "11,\"American President, The (1995)\",Comedy|Drama|Romance\n");
  const auto titles = M::read_item_titles(dir.path() / "movies.csv");
  ASSERT_EQ(titles.size(), 2u);
  EXPECT_EQ(titles.at("11"), "American President, The (1995)");
  write_file(dir.path() / "bad.csv", "movieId,title\n1,A\n1,B\n");
  const std::string bad = (dir.path() / "bad.csv").string();
  EXPECT_EQ(error_of([&] { M::read_item_titles(bad); }), bad + ":3: item id '1' given twice");
}

TEST(IdMap, MapsInOrderAndReportsUnknown) {
  M::IdMap map;
  EXPECT_EQ(map.add("b"), 0);
  EXPECT_EQ(map.add("a"), 1);
  EXPECT_EQ(map.add("b"), 0);
  EXPECT_EQ(map.find("a"), 1);
  EXPECT_FALSE(map.find("zzz").has_value());
  EXPECT_EQ(map.names(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(map.name(1), "a");
  EXPECT_THROW(M::IdMap::from_names({"x", "x"}), embedkit::ValueError);
  EXPECT_THROW(M::IdMap::from_names({"x", ""}), embedkit::ValueError);
  EXPECT_EQ(M::IdMap::from_names({"x", "y"}).find("y"), 1);
  EXPECT_THROW(map.name(2), embedkit::IndexError);
}

// ---- splits ----

M::Ratings timed_ratings() {
  std::string text;
  for (int u = 0; u < 5; ++u) {
    for (int i = 0; i < 10; ++i) {
      text +=
          id('u', u) + " i" + std::to_string(i) + " 3 " + std::to_string(1000 - 10 * i + u) + "\n";
    }
  }
  return M::parse_ratings(text, "t.txt");
}

TEST(Split, RandomIsSeededAndSized) {
  const M::Ratings r = timed_ratings();
  M::SplitOptions o;
  o.test_fraction = 0.2;
  o.seed = 7;
  const M::RatingsSplit a = M::split_ratings(r, o);
  const M::RatingsSplit b = M::split_ratings(r, o);
  EXPECT_EQ(a.test.size(), 10u);
  EXPECT_EQ(a.train.size(), 40u);
  for (std::size_t k = 0; k < a.test.size(); ++k) EXPECT_EQ(a.test[k].line, b.test[k].line);
  o.seed = 8;
  const M::RatingsSplit c = M::split_ratings(r, o);
  bool differs = false;
  for (std::size_t k = 0; k < a.test.size(); ++k) differs |= a.test[k].line != c.test[k].line;
  EXPECT_TRUE(differs);
}

TEST(Split, UserTimeHoldsOutEachUsersLatest) {
  M::SplitOptions o;
  o.method = M::SplitMethod::UserTime;
  o.test_fraction = 0.2;
  const M::RatingsSplit s = M::split_ratings(timed_ratings(), o);
  ASSERT_EQ(s.test.size(), 10u);
  // Item i has timestamp 1000 - 10 i: the latest are i0 and i1 for every user.
  for (const M::Rating& t : s.test) EXPECT_TRUE(t.item == "i0" || t.item == "i1") << t.item;
}

TEST(Split, GlobalTimeCutsAtTheLatest) {
  M::SplitOptions o;
  o.method = M::SplitMethod::GlobalTime;
  o.test_fraction = 0.1;
  const M::RatingsSplit s = M::split_ratings(timed_ratings(), o);
  ASSERT_EQ(s.test.size(), 5u);
  for (const M::Rating& t : s.test) EXPECT_EQ(t.item, "i0");
}

TEST(Split, GlobalTimestampCut) {
  M::SplitOptions o;
  o.method = M::SplitMethod::GlobalTime;
  o.cut_timestamp = 990;  // items i0 (1000 + u) and i1 (990 + u)
  const M::RatingsSplit s = M::split_ratings(timed_ratings(), o);
  ASSERT_EQ(s.test.size(), 10u);
  for (const M::Rating& t : s.test) EXPECT_TRUE(t.item == "i0" || t.item == "i1") << t.item;
  o.method = M::SplitMethod::Random;
  EXPECT_THROW(M::split_ratings(timed_ratings(), o), embedkit::ValueError);
}

TEST(Split, TimeSplitNeedsTimestamps) {
  M::SplitOptions o;
  o.method = M::SplitMethod::UserTime;
  EXPECT_THROW(M::split_ratings(M::parse_ratings("a b 1\n", "n.txt"), o), embedkit::ValueError);
}

// ---- metrics ----

TEST(RankingMetrics, KnownValues) {
  const std::vector<std::int64_t> ranked = {5, 1, 9, 3};
  const std::vector<std::int64_t> relevant = {1, 3, 7};
  EXPECT_DOUBLE_EQ(M::recall_at_k(ranked, relevant, 2), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(M::recall_at_k(ranked, relevant, 4), 2.0 / 3.0);
  const double dcg = 1.0 / std::log2(3.0) + 1.0 / std::log2(5.0);
  const double idcg = 1.0 + 1.0 / std::log2(3.0) + 1.0 / 2.0;
  EXPECT_DOUBLE_EQ(M::ndcg_at_k(ranked, relevant, 4), dcg / idcg);
  EXPECT_DOUBLE_EQ(M::ndcg_at_k(std::vector<std::int64_t>{1, 3, 7}, relevant, 3), 1.0);
  EXPECT_DOUBLE_EQ(M::recall_at_k(ranked, {}, 4), 0.0);
}

// ---- training ----

// Ratings from planted rank-3 factors plus user, item and global biases, with N(0, noise^2)
// noise; each user rates a random 40% of the items.
std::vector<M::Rating> planted_ratings(int users, int items, double noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  constexpr int kRank = 3;
  std::vector<double> p(static_cast<std::size_t>(users * kRank));
  std::vector<double> q(static_cast<std::size_t>(items * kRank));
  std::vector<double> bu(static_cast<std::size_t>(users));
  std::vector<double> bi(static_cast<std::size_t>(items));
  for (double& x : p) x = 0.6 * normal(rng);
  for (double& x : q) x = 0.6 * normal(rng);
  for (double& x : bu) x = 0.5 * normal(rng);
  for (double& x : bi) x = 0.5 * normal(rng);
  std::vector<M::Rating> out;
  std::int64_t line = 0;
  for (int u = 0; u < users; ++u) {
    for (int i = 0; i < items; ++i) {
      if (uniform(rng) >= 0.4) continue;
      double r = 3.0 + bu[static_cast<std::size_t>(u)] + bi[static_cast<std::size_t>(i)];
      for (int k = 0; k < kRank; ++k) {
        r +=
            p[static_cast<std::size_t>(u * kRank + k)] * q[static_cast<std::size_t>(i * kRank + k)];
      }
      r += noise * normal(rng);
      out.push_back({id('u', u), id('i', i), static_cast<float>(r), 0, ++line});
    }
  }
  return out;
}

M::RatingsSplit split_of(std::vector<M::Rating> rows, unsigned seed) {
  M::Ratings r;
  r.rows = std::move(rows);
  r.source = "planted";
  M::SplitOptions o;
  o.seed = seed;
  return M::split_ratings(r, o);
}

M::MfOptions small_options(M::MfOptimizer optimizer) {
  M::MfOptions o;
  o.optimizer = optimizer;
  o.dim = 8;
  o.epochs = 60;
  o.batch_size = 256;
  o.l2 = 0.02;
  o.l2_bias = 0.0;
  o.init_std = 0.1;
  o.lr = optimizer == M::MfOptimizer::SparseAdam ? 0.01 : 0.1;
  return o;
}

class PlantedFactors : public ::testing::TestWithParam<M::MfOptimizer> {};

TEST_P(PlantedFactors, TrainingRecoversThemToTheNoiseLevel) {
  constexpr double kNoise = 0.2;
  const M::RatingsSplit s = split_of(planted_ratings(120, 100, kNoise, 3), 11);
  M::Recommender rec = M::train_recommender(s.train, small_options(GetParam()));
  const M::RatingMetrics m = M::evaluate_ratings(rec, s.test);
  // The global-mean baseline is off by the whole planted signal (about 1.4 here); a model that
  // recovered the factors is off by little more than the noise.
  EXPECT_GT(m.baseline_rmse, 0.8);
  EXPECT_LT(m.rmse, 1.5 * kNoise) << "baseline " << m.baseline_rmse;
  EXPECT_LT(m.rmse, 0.3 * m.baseline_rmse);
  EXPECT_EQ(m.count, static_cast<std::int64_t>(s.test.size()));
}

INSTANTIATE_TEST_SUITE_P(Optimizers, PlantedFactors,
                         ::testing::Values(M::MfOptimizer::SparseAdam,
                                           M::MfOptimizer::RowWiseAdagrad));

TEST(MatrixFactorization, SameSeedSameModel) {
  const auto rows = planted_ratings(30, 20, 0.1, 5);
  M::MfOptions o = small_options(M::MfOptimizer::SparseAdam);
  o.epochs = 3;
  M::Recommender a = M::train_recommender(rows, o);
  M::Recommender b = M::train_recommender(rows, o);
  const auto& wa = a.model.named_parameters();
  const auto& wb = b.model.named_parameters();
  for (std::size_t t = 0; t < wa.size(); ++t) {
    ASSERT_EQ(0,
              std::memcmp(wa[t].second.raw_data(), wb[t].second.raw_data(), wa[t].second.nbytes()))
        << wa[t].first;
  }
}

// The batches fit trains on (shared with the MPI recommender): each epoch visits every sample
// once, in a new order; BPR's negatives are items the user has not rated whenever 10 draws can
// find one; the same seed draws the same batches.
TEST(MfBatches, EpochsArePermutationsAndNegativesAreUnrated) {
  M::Interactions train;
  for (std::int64_t k = 0; k < 40; ++k) {
    train.users.push_back(k % 4);
    train.items.push_back((k * 7) % 10);  // each user rates at most 10 items of 200
    train.ratings.push_back(static_cast<float>(k));
  }
  M::MfOptions o;
  o.seed = 3;
  M::MfBatches rating(train, 4, 200, o);
  std::vector<std::int64_t> users, items;
  std::vector<float> ratings;
  std::vector<float> previous;
  for (int epoch = 0; epoch < 2; ++epoch) {
    rating.shuffle();
    rating.batch(0, 40, users, items, ratings);
    ASSERT_EQ(items.size(), 40u);
    std::vector<float> sorted = ratings;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t k = 0; k < 40; ++k) ASSERT_EQ(sorted[k], static_cast<float>(k));
    for (std::size_t k = 0; k < 40; ++k) {
      const auto s = static_cast<std::size_t>(ratings[k]);  // the sample's index
      EXPECT_EQ(users[k], train.users[s]);
      EXPECT_EQ(items[k], train.items[s]);
    }
    EXPECT_NE(ratings, previous);
    previous = ratings;
  }

  o.objective = M::MfObjective::Bpr;
  M::MfBatches bpr(train, 4, 200, o), again(train, 4, 200, o);
  std::vector<std::int64_t> users2, items2;
  std::vector<float> unused;
  bpr.shuffle();
  again.shuffle();
  bpr.batch(0, 40, users, items, ratings);
  again.batch(0, 40, users2, items2, unused);
  EXPECT_TRUE(ratings.empty());
  ASSERT_EQ(items.size(), 80u);
  EXPECT_EQ(items, items2);
  for (std::size_t k = 0; k < 40; ++k) {
    for (std::size_t s = 0; s < train.size(); ++s) {
      EXPECT_FALSE(train.users[s] == users[k] && train.items[s] == items[40 + k])
          << "sample " << k << " drew a rated item";
    }
  }
}

TEST(MatrixFactorization, BetweenBatchesChangesNothingAndCanStopAnEpochPromptly) {
  const auto rows = planted_ratings(30, 20, 0.1, 5);
  M::MfOptions o = small_options(M::MfOptimizer::RowWiseAdagrad);
  o.epochs = 3;
  const M::Recommender plain = M::train_recommender(rows, o);
  int calls = 0;
  const M::Recommender watched = M::train_recommender(rows, o, {}, [&] { ++calls; });
  const auto& wa = plain.model.named_parameters();
  const auto& wb = watched.model.named_parameters();
  for (std::size_t t = 0; t < wa.size(); ++t) {
    ASSERT_EQ(0,
              std::memcmp(wa[t].second.raw_data(), wb[t].second.raw_data(), wa[t].second.nbytes()))
        << wa[t].first;
  }
  // One epoch of hundreds of thousands of one-rating batches (seconds): the callback ends it
  // within a batch of throwing.
  struct Stop {};
  o.epochs = 1;
  o.batch_size = 1;
  std::vector<M::Rating> many;
  for (int copy = 0; copy < 2000; ++copy) many.insert(many.end(), rows.begin(), rows.end());
  calls = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(M::train_recommender(many, o, {},
                                    [&] {
                                      if (++calls == 3) throw Stop{};
                                    }),
               Stop);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(calls, 3);
  EXPECT_LT(seconds, 10.0);
}

TEST(MatrixFactorization, RejectsBadOptionsAndRows) {
  M::MfOptions o;
  o.dim = 0;
  EXPECT_THROW(o.validate(), embedkit::ValueError);
  M::MatrixFactorization mf(2, 2, M::MfOptions{});
  M::Interactions data{{0, 5}, {0, 1}, {1.0f, 2.0f}};
  EXPECT_THROW(mf.fit(data), embedkit::IndexError);
}

// ---- unknown ids ----

TEST(Recommender, UnknownIdsFallBackToKnownBiasesAndAreCounted) {
  const auto rows = planted_ratings(20, 15, 0.1, 9);
  M::MfOptions o = small_options(M::MfOptimizer::SparseAdam);
  o.epochs = 5;
  M::Recommender rec = M::train_recommender(rows, o);
  const float g = rec.model.global_bias_value();
  const std::int64_t item = *rec.items.find("i3");
  const std::int64_t user = *rec.users.find("u4");
  auto clipped = [&](float v) { return std::clamp(v, rec.rating_min, rec.rating_max); };
  M::RatingPrediction p = M::predict_rating(rec, "nobody", "i3");
  EXPECT_FALSE(p.user_known);
  EXPECT_TRUE(p.item_known);
  EXPECT_FLOAT_EQ(p.value, clipped(g + rec.model.item_bias_value(item)));
  p = M::predict_rating(rec, "u4", "no-such-item");
  EXPECT_FLOAT_EQ(p.value, clipped(g + rec.model.user_bias_value(user)));
  p = M::predict_rating(rec, "x", "y");
  EXPECT_FLOAT_EQ(p.value, clipped(g));
  const std::vector<M::Rating> test = {{"nobody", "i3", 3.0f, 0, 1},
                                       {"u4", "zz", 3.0f, 0, 2},
                                       {"x", "y", 3.0f, 0, 3},
                                       {"u4", "i3", 3.0f, 0, 4}};
  const M::RatingMetrics m = M::evaluate_ratings(rec, test);
  EXPECT_EQ(m.count, 4);
  EXPECT_EQ(m.unknown_user, 1);
  EXPECT_EQ(m.unknown_item, 1);
  EXPECT_EQ(m.unknown_both, 1);
  const M::TopN cold = M::recommend(rec, "nobody", 3);
  EXPECT_TRUE(cold.cold);
  ASSERT_EQ(cold.items.size(), 3u);
  try {
    (void)M::similar_items(rec, "no-such-item", 3);
    FAIL() << "no KeyError";
  } catch (const embedkit::KeyError& e) {  // a ValueError, as before
    EXPECT_STREQ(e.what(), "item 'no-such-item' is not in the model");
    EXPECT_EQ(e.key(), "no-such-item");
  }
}

TEST(Recommender, TopNExcludesRatedItems) {
  const auto rows = planted_ratings(20, 15, 0.1, 9);
  M::MfOptions o = small_options(M::MfOptimizer::SparseAdam);
  o.epochs = 2;
  M::Recommender rec = M::train_recommender(rows, o);
  std::set<std::string> rated;
  for (const M::Rating& r : rows) {
    if (r.user == "u0") rated.insert(r.item);
  }
  const M::TopN top = M::recommend(rec, "u0", 100);
  EXPECT_FALSE(top.cold);
  EXPECT_EQ(top.items.size(), 15u - rated.size());
  // The score is the raw ranking score; the predicted rating is it clipped to the rating range.
  const std::vector<float> raw = rec.model.scores_for_user(*rec.users.find("u0"));
  for (std::size_t k = 0; k < top.items.size(); ++k) {
    EXPECT_EQ(top.items[k].score, raw[static_cast<std::size_t>(top.items[k].row)]);
    EXPECT_EQ(top.items[k].predicted_rating,
              std::clamp(top.items[k].score, rec.rating_min, rec.rating_max));
    EXPECT_EQ(rated.count(top.items[k].item), 0u);
    if (k > 0) {
      EXPECT_GE(top.items[k - 1].score, top.items[k].score);
    }
  }
}

// ---- BPR ----

// Two user groups, each rating only its own half of the items: BPR must rank a user's unseen
// own-half items above the other half.
TEST(Bpr, LearnsGroupPreferences) {
  std::vector<M::Rating> rows;
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::int64_t line = 0;
  std::vector<M::Rating> test;
  for (int u = 0; u < 60; ++u) {
    for (int i = 0; i < 40; ++i) {
      if ((u % 2) != (i % 2) || uniform(rng) >= 0.5) continue;
      M::Rating r{id('u', u), id('i', i), 1.0f, 0, ++line};
      (uniform(rng) < 0.2 ? test : rows).push_back(r);
    }
  }
  M::MfOptions o;
  o.objective = M::MfObjective::Bpr;
  o.dim = 8;
  o.epochs = 80;
  o.lr = 0.02;
  o.l2 = 0.01;
  o.batch_size = 64;
  M::Recommender rec = M::train_recommender(rows, o);
  const M::RankingMetrics m = M::evaluate_ranking(rec, test, 10);
  // A user has about 32 unseen items, 12 of them in their own half: a random top 10 finds
  // about 10/32 of the held-out items, a perfect group ranking about 10/12.
  EXPECT_GT(m.recall, 0.6) << "ndcg " << m.ndcg;
  EXPECT_GT(m.users, 50);
  // Nearly every recommendation comes from the user's own half.
  int own = 0;
  int total = 0;
  for (int u = 0; u < 60; ++u) {
    for (const M::Recommendation& r : M::recommend(rec, id('u', u), 5).items) {
      own += std::stoi(r.item.substr(1)) % 2 == u % 2 ? 1 : 0;
      ++total;
    }
  }
  EXPECT_GT(own, total * 9 / 10) << own << " of " << total;
}

// ---- divergence ----

// An absurd learning rate overflows the tables. Training must stop with an error naming the
// epoch, the rating and the option to lower, never return a model its own loader rejects.
TEST(MatrixFactorization, DivergenceIsAnErrorNamingTheEpochAndTheRate) {
  const auto rows = planted_ratings(30, 20, 0.1, 5);
  for (const auto objective : {M::MfObjective::Rating, M::MfObjective::Bpr}) {
    for (const auto optimizer : {M::MfOptimizer::SparseAdam, M::MfOptimizer::RowWiseAdagrad}) {
      M::MfOptions o = small_options(optimizer);
      o.objective = objective;
      o.lr = 1e30;
      o.epochs = 5;
      std::string message;
      try {
        M::train_recommender(rows, o);
      } catch (const M::TrainingDivergedError& e) {
        message = e.what();
        EXPECT_GE(e.epoch(), 1);
        EXPECT_LE(e.epoch(), o.epochs);
      }
      EXPECT_NE(message.find("training diverged at epoch "), std::string::npos) << message;
      EXPECT_NE(message.find(", rating "), std::string::npos) << message;
      EXPECT_NE(message.find("; lower --lr"), std::string::npos) << message;
    }
  }
}

// ---- files ----

TEST(RecommenderFile, SaveLoadRoundTrip) {
  TempDir dir;
  const auto rows = planted_ratings(25, 18, 0.1, 2);
  M::MfOptions o = small_options(M::MfOptimizer::RowWiseAdagrad);
  o.epochs = 3;
  M::Recommender rec = M::train_recommender(rows, o);
  const auto path = dir.path() / "model.safetensors";
  rec.save(path);
  M::Recommender back = M::Recommender::load(path);
  EXPECT_EQ(back.users.names(), rec.users.names());
  EXPECT_EQ(back.items.names(), rec.items.names());
  EXPECT_EQ(back.rated, rec.rated);
  EXPECT_EQ(back.model.options().optimizer, M::MfOptimizer::RowWiseAdagrad);
  EXPECT_EQ(back.model.options().dim, 8);
  for (const M::Rating& r : rows) {
    EXPECT_EQ(M::predict_rating(back, r.user, r.item).value,
              M::predict_rating(rec, r.user, r.item).value);
  }
  const auto a = M::recommend(rec, "u1", 5).items;
  const auto b = M::recommend(back, "u1", 5).items;
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].item, b[k].item);
}

TEST(RecommenderFile, BadFilesAreClearErrors) {
  TempDir dir;
  const auto rows = planted_ratings(10, 8, 0.1, 2);
  M::MfOptions o = small_options(M::MfOptimizer::SparseAdam);
  o.epochs = 1;
  M::Recommender rec = M::train_recommender(rows, o);
  const auto path = dir.path() / "model.safetensors";
  rec.save(path);
  // Truncated.
  const auto size = std::filesystem::file_size(path);
  std::filesystem::copy_file(path, dir.path() / "cut.safetensors");
  std::filesystem::resize_file(dir.path() / "cut.safetensors", size / 2);
  EXPECT_THROW(M::Recommender::load(dir.path() / "cut.safetensors"), embedkit::IoError);
  // Not a model at all.
  write_file(dir.path() / "junk.safetensors", "hello");
  EXPECT_THROW(M::Recommender::load(dir.path() / "junk.safetensors"), embedkit::IoError);
  EXPECT_THROW(M::Recommender::load(dir.path() / "missing.safetensors"), embedkit::IoError);
  // A valid safetensors file that is not a recommender.
  embedkit::io::save_safetensors(dir.path() / "other.safetensors",
                                 {{"x", embedkit::Tensor::zeros({2, 2})}});
  const std::string msg = error_of([&] { M::Recommender::load(dir.path() / "other.safetensors"); });
  EXPECT_NE(msg.find("not an embedkit recommender model"), std::string::npos) << msg;
}

TEST(RecommenderFile, TheLargestSeedSurvivesSaving) {
  TempDir dir;
  M::MfOptions o = small_options(M::MfOptimizer::SparseAdam);
  o.epochs = 1;
  for (const std::uint64_t seed :
       {std::uint64_t{1} << 63, std::numeric_limits<std::uint64_t>::max()}) {
    o.seed = seed;
    M::Recommender rec = M::train_recommender(planted_ratings(10, 8, 0.1, 2), o);
    rec.save(dir.path() / "model.safetensors");
    const M::Recommender back = M::Recommender::load(dir.path() / "model.safetensors");
    EXPECT_EQ(back.model.options().seed, seed);
  }
}

// The saved model's tensors and metadata, to be altered by a test.
struct SavedModel {
  embedkit::NamedTensors tensors;
  embedkit::io::Metadata metadata;
  embedkit::Tensor& operator[](const std::string& name) {
    for (auto& [n, t] : tensors) {
      if (n == name) return t;
    }
    throw std::runtime_error("no tensor " + name);
  }
};

SavedModel saved_model(const std::filesystem::path& path) {
  M::MfOptions o = small_options(M::MfOptimizer::SparseAdam);
  o.epochs = 1;
  M::Recommender rec = M::train_recommender(planted_ratings(10, 8, 0.1, 2), o);
  rec.save(path);
  embedkit::io::Checkpoint ck = embedkit::io::read_checkpoint(path);
  return {ck.model, ck.metadata};
}

// The loader's error for `model` written to `path` ("" when it loads), and how long it took.
std::string load_error(const std::filesystem::path& path, const SavedModel& model,
                       double* seconds = nullptr) {
  embedkit::io::save_checkpoint(path, model.tensors, {}, model.metadata);
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of([&] { M::Recommender::load(path); });
  if (seconds != nullptr) {
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return message;
}

TEST(RecommenderFile, NonFiniteParametersAreRejectedByName) {
  TempDir dir;
  const SavedModel good = saved_model(dir.path() / "good.safetensors");
  for (const auto& [name, tensor] : good.tensors) {
    if (tensor.dtype() != embedkit::DType::Float32) continue;
    SavedModel m = good;
    m[name] = tensor.clone();
    m[name].data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
    const std::string message = load_error(dir.path() / "bad.safetensors", m);
    EXPECT_NE(message.find("tensor '" + name + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("non-finite"), std::string::npos) << message;
  }
}

// A small file whose metadata lies about the sizes must be refused at once, before anything is
// allocated from the metadata (dim=200000000 used to take 78 s and 3 GB, dim=10^12 ended in
// std::bad_alloc).
TEST(RecommenderFile, LyingMetadataIsRefusedBeforeAllocating) {
  TempDir dir;
  const SavedModel good = saved_model(dir.path() / "good.safetensors");
  const std::vector<std::pair<std::string, std::string>> lies = {
      {"dim", "200000000"},
      {"dim", "1000000000000"},
      {"dim", "9223372036854775807"},
      {"dim", "-8"},
      {"dim", "9"},
      {"batch_size", "-1"},
      {"epochs", "-1"},
      {"users", "u0\nu1"},  // fewer users than the tables' rows
      {"items", good.metadata.at("items") + "\nextra-item"},
  };
  for (const auto& [key, value] : lies) {
    SavedModel m = good;
    m.metadata[key] = value;
    double seconds = 0;
    const std::string message = load_error(dir.path() / "lie.safetensors", m, &seconds);
    EXPECT_NE(message, "") << key << "=" << value;
    EXPECT_LT(seconds, 1.0) << key << "=" << value;
  }
}

// The rated-items index must lie inside the file's tensors: offsets past the end, decreasing or
// negative offsets, and item rows out of range are errors, never reads out of bounds.
TEST(RecommenderFile, LyingRatedIndexIsRefused) {
  TempDir dir;
  const SavedModel good = saved_model(dir.path() / "good.safetensors");
  const std::vector<std::int64_t> offsets = good.tensors.at(5).second.to_int64_vector();
  const std::vector<std::int64_t> items = good.tensors.at(6).second.to_int64_vector();
  ASSERT_EQ(good.tensors.at(5).first, "rated.offsets");
  ASSERT_GE(offsets.size(), 3u);
  const auto n = static_cast<std::int64_t>(items.size());
  std::vector<std::vector<std::int64_t>> bad_offsets;
  auto with = [&](std::size_t k, std::int64_t v) {
    std::vector<std::int64_t> o = offsets;
    o[k] = v;
    return o;
  };
  bad_offsets.push_back(with(1, n + 1000));  // past the end, then back
  bad_offsets.push_back(with(1, -5));
  bad_offsets.push_back(with(0, 1));
  bad_offsets.push_back(with(offsets.size() - 1, n - 1));
  for (const auto& o : bad_offsets) {
    SavedModel m = good;
    m["rated.offsets"] = embedkit::Tensor::from_vector(o);
    EXPECT_NE(load_error(dir.path() / "lie.safetensors", m).find("rated.offsets"),
              std::string::npos);
  }
  SavedModel m = good;
  std::vector<std::int64_t> rows = items;
  rows[0] = 1000;
  m["rated.items"] = embedkit::Tensor::from_vector(rows);
  EXPECT_NE(load_error(dir.path() / "lie.safetensors", m).find("rated.items"), std::string::npos);
}

// The bytes of a saved recommender are pinned: a model file written by one embedkit must be
// written the same by the next. The tables are overwritten with literals after training, so the
// file depends on the ids, options and ratings given here only.
TEST(RecommenderFile, SavedFileBytesArePinned) {
  const std::vector<M::Rating> rows = {
      {"u1", "i\"q\"", 3.7f, 0, 1}, {"caf\xC3\xA9", "i2", 4.25f, 0, 2}, {"u1", "i2", 4.5f, 0, 3}};
  M::MfOptions o;
  o.dim = 2;
  o.epochs = 1;
  M::Recommender rec = M::train_recommender(rows, o);
  const std::vector<std::vector<float>> tables = {{0.5f, -0.25f, 1e-3f, 3.0f},
                                                  {-2.0f, 0.1f, 1.0f, -1.0f},
                                                  {0.375f, 7.5f},
                                                  {-0.5f, 2.0f},
                                                  {4.0f}};
  std::size_t k = 0;
  for (auto& [name, table] : rec.model.named_parameters()) {
    ASSERT_EQ(table.numel(), static_cast<std::int64_t>(tables[k].size())) << name;
    std::memcpy(table.data<float>(), tables[k].data(), tables[k].size() * sizeof(float));
    ++k;
  }
  TempDir dir;
  rec.save(dir.path() / "model.safetensors");

  const std::string header =
      R"({"__metadata__":{"batch_size":"1024","dim":"2","embedkit.checkpoint":"1",)"
      R"("embedkit.recommender":"1","epochs":"1","format":"pt","init_std":"0.01",)"
      R"("items":"i\"q\"\u000ai2","l2":"0.1","l2_bias":"0.01","lr":"0.05","objective":"rating",)"
      R"("optimizer":"rowwise-adagrad","rating_max":"4.5","rating_min":"3.700000047683716",)"
      R"("seed":"42","users":"u1\u000acaf)"
      "\xC3\xA9"
      R"("},)"
      R"("user_factors.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("item_factors.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},)"
      R"("user_bias.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[32,40]},)"
      R"("item_bias.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[40,48]},)"
      R"("global_bias.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[48,52]},)"
      R"("rated.offsets":{"dtype":"I64","shape":[3],"data_offsets":[52,76]},)"
      R"("rated.items":{"dtype":"I64","shape":[3],"data_offsets":[76,100]}})";
  embedkit_test::PinnedSafetensors expected(header);
  for (const auto& table : tables) expected.add(table);
  expected.add(std::vector<std::int64_t>{0, 2, 3}).add(std::vector<std::int64_t>{0, 1, 1});
  EXPECT_EQ(embedkit_test::read_file(dir.path() / "model.safetensors"), expected.bytes());
}

}  // namespace
