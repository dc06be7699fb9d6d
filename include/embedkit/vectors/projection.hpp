// Two-dimensional projections of word vectors, for plotting: PCA (the top two principal
// components) and exact t-SNE (van der Maaten & Hinton 2008).
//
// Both take a float32 matrix [N, D] (one point per row, as KeyedVectors holds them) and return
// N points in the plane, computed in double precision. Both are deterministic: PCA has no
// randomness and fixes each axis' sign; t-SNE draws its start from a seeded Generator and runs
// on one thread in a fixed order, so the same input and seed give the same points, bit for bit.
//
// Errors (ValueError): a matrix that is not float32 [N, D] with N >= 1 and D >= 1, a NaN or
// infinite value (naming the row), and options out of range.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "embedkit/core/tensor.hpp"

namespace embedkit::vectors {

using Point2 = std::array<double, 2>;

struct PcaResult {
  // The rows projected on the two components (centred: the points' mean is the origin).
  std::vector<Point2> points;
  // The components (unit vectors of length D; all zeros when no variance is left for one).
  // The sign is fixed so that each component's entry of largest magnitude is positive (the
  // first such entry on a tie).
  std::array<std::vector<double>, 2> components;
  // Variance along each component (sum of squares / (N - 1); 0 when N == 1), largest first.
  std::array<double, 2> explained_variance{0.0, 0.0};
  // The share of the total variance each component explains (0 when the total is 0).
  std::array<double, 2> explained_variance_ratio{0.0, 0.0};
};

// The top two principal components of the rows of `matrix`, by an eigendecomposition (cyclic
// Jacobi) of the smaller of the covariance [D, D] and Gram [N, N] matrices. With D == 1 (or
// all points on a line) the second coordinate is 0.
PcaResult pca_2d(const Tensor& matrix);

struct TsneOptions {
  // The effective number of neighbors each point's Gaussian is tuned to (by binary search on
  // its precision). Must be > 0 and < N (the number of points).
  double perplexity = 30.0;
  std::int64_t iterations = 1000;
  // Attractive forces are multiplied by `early_exaggeration` for the first
  // `exaggeration_iterations` iterations (momentum 0.5 then, 0.8 after).
  double early_exaggeration = 12.0;
  std::int64_t exaggeration_iterations = 250;
  // Gradient-descent step; 0 picks max(N / early_exaggeration / 4, 50), as scikit-learn's
  // learning_rate="auto" does.
  double learning_rate = 0.0;
  std::uint64_t seed = 0;
};

// The perplexity `wanted` reduced, when needed, so that it suits `n` points: min(wanted,
// (n - 1) / 3), and at least 1 (for n >= 2).
double perplexity_for(std::int64_t n, double wanted = 30.0);

struct TsneResult {
  std::vector<Point2> points;
  // KL(P || Q) at the end, the quantity t-SNE minimizes.
  double kl_divergence = 0.0;
};

// Exact t-SNE: O(N^2) memory and time per iteration, meant for up to a few thousand points.
// Euclidean distances between rows; the embedding starts from N(0, 1e-4^2) draws. One point
// gives the origin.
TsneResult tsne_2d(const Tensor& matrix, const TsneOptions& options = {});

}  // namespace embedkit::vectors
