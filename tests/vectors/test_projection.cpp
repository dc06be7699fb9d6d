// PCA and t-SNE to two dimensions (vectors/projection.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/vectors/projection.hpp"

namespace {

using embedkit::Tensor;
using embedkit::vectors::pca_2d;
using embedkit::vectors::Point2;
using embedkit::vectors::tsne_2d;
using embedkit::vectors::TsneOptions;

Tensor rows(const std::vector<std::vector<float>>& r) {
  std::vector<float> flat;
  for (const auto& row : r) flat.insert(flat.end(), row.begin(), row.end());
  return Tensor::from_floats(
      flat, {static_cast<std::int64_t>(r.size()), static_cast<std::int64_t>(r.front().size())});
}

double distance(const Point2& a, const Point2& b) {
  return std::hypot(a[0] - b[0], a[1] - b[1]);
}

TEST(Pca, PointsOnALineRecoverTheDirection) {
  // x = t * (1, 2, 2) / 3 + (5, -1, 0): one direction, no variance elsewhere.
  std::vector<std::vector<float>> r;
  const std::vector<float> ts = {-3, -1, 0, 2, 5, 6};
  for (const float t : ts) r.push_back({5 + t / 3, -1 + 2 * t / 3, 2 * t / 3});
  const auto res = pca_2d(rows(r));
  ASSERT_EQ(res.components[0].size(), 3u);
  // The axis, with the sign rule (largest entry positive: 2/3, the first of the tie).
  EXPECT_NEAR(res.components[0][0], 1.0 / 3, 1e-6);
  EXPECT_NEAR(res.components[0][1], 2.0 / 3, 1e-6);
  EXPECT_NEAR(res.components[0][2], 2.0 / 3, 1e-6);
  // Scores are t minus its mean (1.5); the second coordinate is zero.
  for (std::size_t i = 0; i < ts.size(); ++i) {
    EXPECT_NEAR(res.points[i][0], ts[i] - 1.5, 1e-5);
    EXPECT_NEAR(res.points[i][1], 0.0, 1e-5);
  }
  EXPECT_NEAR(res.explained_variance_ratio[0], 1.0, 1e-9);
  EXPECT_NEAR(res.explained_variance_ratio[1], 0.0, 1e-9);
  // Variance of t: sum of (t - 1.5)^2 / (n - 1) = 61.5 / 5.
  EXPECT_NEAR(res.explained_variance[0], 61.5 / 5, 1e-5);
}

TEST(Pca, PlaneAxesComeOutInVarianceOrder) {
  // Points in the plane z = 0, spread 10x wider along y than along x: y first, then x.
  std::vector<std::vector<float>> r;
  for (int i = -2; i <= 2; ++i) {
    for (int j = -2; j <= 2; ++j)
      r.push_back({static_cast<float>(i), 10.0f * static_cast<float>(j), 0.0f});
  }
  const auto res = pca_2d(rows(r));
  EXPECT_NEAR(std::abs(res.components[0][1]), 1.0, 1e-9);
  EXPECT_NEAR(std::abs(res.components[1][0]), 1.0, 1e-9);
  EXPECT_GT(res.components[0][1], 0.0);  // the sign rule
  EXPECT_GT(res.components[1][0], 0.0);
  EXPECT_NEAR(res.explained_variance[0] / res.explained_variance[1], 100.0, 1e-6);
  EXPECT_NEAR(res.explained_variance_ratio[0] + res.explained_variance_ratio[1], 1.0, 1e-9);
  // Projection preserves the distances of points in the plane.
  EXPECT_NEAR(distance(res.points[0], res.points[24]), std::hypot(4.0, 40.0), 1e-4);
}

TEST(Pca, FewerPointsThanDimensionsUsesTheGramMatrix) {
  // 3 points in 6-D: the Gram path. The same points padded with zero columns give the same
  // scores as in 2-D.
  const auto small = pca_2d(rows({{0, 0}, {4, 0}, {0, 1}}));
  const auto wide = pca_2d(rows({{0, 0, 0, 0, 0, 0}, {4, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}}));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(small.points[i][0], wide.points[i][0], 1e-9);
    EXPECT_NEAR(small.points[i][1], wide.points[i][1], 1e-9);
  }
  EXPECT_NEAR(wide.explained_variance[0], small.explained_variance[0], 1e-9);
  EXPECT_GT(wide.explained_variance[0], wide.explained_variance[1]);
  for (double c : wide.components[0]) EXPECT_TRUE(std::isfinite(c));
}

TEST(Pca, SignDoesNotDependOnInputOrientation) {
  const auto a = pca_2d(rows({{1, 0}, {2, 0.1f}, {3, 0}, {4, 0.1f}}));
  const auto b = pca_2d(rows({{-1, 0}, {-2, -0.1f}, {-3, 0}, {-4, -0.1f}}));
  EXPECT_GT(a.components[0][0], 0.0);
  EXPECT_GT(b.components[0][0], 0.0);
  EXPECT_NEAR(a.points[0][0], -b.points[0][0], 1e-9);
}

TEST(Pca, OnePointAndErrors) {
  const auto one = pca_2d(rows({{1, 2, 3}}));
  EXPECT_EQ(one.points[0], (Point2{0.0, 0.0}));
  EXPECT_EQ(one.explained_variance[0], 0.0);
  EXPECT_THROW(pca_2d(Tensor::zeros({0, 3})), embedkit::ValueError);
  EXPECT_THROW(pca_2d(Tensor::zeros({4})), embedkit::ValueError);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  try {
    pca_2d(rows({{1, 2}, {3, nan}}));
    FAIL() << "NaN accepted";
  } catch (const embedkit::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("row 1 holds NaN"), std::string::npos) << e.what();
  }
}

// Three tight clusters far apart in 10-D, 15 points each.
Tensor three_clusters(std::vector<int>& labels) {
  embedkit::Generator gen(11);
  std::vector<std::vector<float>> r;
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 15; ++i) {
      std::vector<float> row(10);
      for (int k = 0; k < 10; ++k) {
        row[static_cast<std::size_t>(k)] =
            static_cast<float>((k == c ? 20.0 : 0.0) + 0.5 * gen.normal());
      }
      r.push_back(row);
      labels.push_back(c);
    }
  }
  return rows(r);
}

TEST(Tsne, KeepsSeparatedClustersSeparated) {
  std::vector<int> labels;
  const Tensor x = three_clusters(labels);
  TsneOptions o;
  o.perplexity = 5;
  o.seed = 3;
  const auto res = tsne_2d(x, o);
  ASSERT_EQ(res.points.size(), labels.size());
  // Every point is nearer to all of its own cluster than to any point of another cluster.
  double worst_inside = 0.0;
  double best_across = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    for (std::size_t j = i + 1; j < labels.size(); ++j) {
      const double dist = distance(res.points[i], res.points[j]);
      if (labels[i] == labels[j]) {
        worst_inside = std::max(worst_inside, dist);
      } else {
        best_across = std::min(best_across, dist);
      }
    }
  }
  EXPECT_LT(worst_inside, best_across);
  EXPECT_TRUE(std::isfinite(res.kl_divergence));
  EXPECT_GE(res.kl_divergence, 0.0);
}

TEST(Tsne, SameSeedSamePointsOtherSeedOtherPoints) {
  std::vector<int> labels;
  const Tensor x = three_clusters(labels);
  TsneOptions o;
  o.perplexity = 5;
  o.iterations = 300;
  o.seed = 9;
  const auto a = tsne_2d(x, o);
  const auto b = tsne_2d(x, o);
  EXPECT_EQ(a.points, b.points);
  EXPECT_EQ(a.kl_divergence, b.kl_divergence);
  o.seed = 10;
  const auto c = tsne_2d(x, o);
  EXPECT_NE(a.points, c.points);
}

TEST(Tsne, OptionsAndEdgeCases) {
  EXPECT_EQ(embedkit::vectors::perplexity_for(1000), 30.0);
  EXPECT_EQ(embedkit::vectors::perplexity_for(10), 3.0);
  EXPECT_EQ(embedkit::vectors::perplexity_for(2), 1.0);
  const Tensor two = rows({{0, 0}, {1, 1}});
  TsneOptions o;
  o.perplexity = 2;  // not less than N
  EXPECT_THROW(tsne_2d(two, o), embedkit::ValueError);
  o.perplexity = 1;
  o.iterations = 50;
  const auto res = tsne_2d(two, o);
  EXPECT_GT(distance(res.points[0], res.points[1]), 0.0);
  const auto one = tsne_2d(rows({{1, 2}}), o);
  EXPECT_EQ(one.points[0], (Point2{0.0, 0.0}));
  o.iterations = 0;
  EXPECT_THROW(tsne_2d(two, o), embedkit::ValueError);
  o.iterations = 10;
  o.learning_rate = -1;
  EXPECT_THROW(tsne_2d(two, o), embedkit::ValueError);
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_THROW(tsne_2d(rows({{0, 0}, {inf, 1}}), TsneOptions{}), embedkit::ValueError);
}

}  // namespace
