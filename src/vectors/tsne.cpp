// Exact t-SNE (van der Maaten & Hinton 2008): Gaussian affinities tuned per point to a
// perplexity, symmetrized; a Student-t (one degree of freedom) kernel in the plane; gradient
// descent with momentum, per-coordinate adaptive gains and early exaggeration.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/vectors/projection.hpp"
#include "vectors/projection_input.hpp"

namespace embedkit::vectors {
namespace {

constexpr double kMinProbability = 1e-12;

// Row i of the conditional affinities p_{j|i}: exp(-beta d_ij) normalized, with beta found by
// bisection so that the row's entropy is log(perplexity). Distances are shifted by the row's
// smallest one first (the normalization cancels it), so nothing underflows to an all-zero row.
void conditional_row(const std::vector<double>& d2, std::size_t n, std::size_t i, double perplexity,
                     double* out) {
  const double target = std::log(perplexity);
  double dmin = std::numeric_limits<double>::infinity();
  for (std::size_t j = 0; j < n; ++j) {
    if (j != i) dmin = std::min(dmin, d2[i * n + j]);
  }
  double beta = 1.0;
  double lo = 0.0;
  double hi = std::numeric_limits<double>::infinity();
  for (int step = 0; step < 200; ++step) {
    double sum = 0.0;
    double weighted = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) {
        out[j] = 0.0;
        continue;
      }
      const double shifted = d2[i * n + j] - dmin;
      const double p = std::exp(-beta * shifted);
      out[j] = p;
      sum += p;
      weighted += shifted * p;
    }
    const double entropy = std::log(sum) + beta * weighted / sum;
    for (std::size_t j = 0; j < n; ++j) out[j] /= sum;
    const double gap = entropy - target;
    if (std::abs(gap) < 1e-5) break;
    if (gap > 0) {  // too flat: sharpen
      lo = beta;
      beta = std::isinf(hi) ? beta * 2.0 : (beta + hi) / 2.0;
    } else {
      hi = beta;
      beta = (beta + lo) / 2.0;
    }
  }
}

}  // namespace

double perplexity_for(std::int64_t n, double wanted) {
  const double cap = static_cast<double>(n - 1) / 3.0;
  return std::max(1.0, std::min(wanted, cap));
}

TsneResult tsne_2d(const Tensor& matrix, const TsneOptions& options) {
  const detail::Rows x = detail::checked_rows(matrix, "tsne_2d");
  const auto n = static_cast<std::size_t>(x.n);
  const auto d = static_cast<std::size_t>(x.d);
  if (!(options.perplexity > 0.0) || (n > 1 && options.perplexity >= static_cast<double>(n))) {
    throw ValueError("tsne_2d: perplexity must be > 0 and less than the number of points (" +
                     std::to_string(n) + "), got " + std::to_string(options.perplexity));
  }
  if (options.iterations < 1 || options.exaggeration_iterations < 0) {
    throw ValueError("tsne_2d: iterations must be >= 1 and exaggeration_iterations >= 0");
  }
  if (!(options.early_exaggeration >= 1.0) || !std::isfinite(options.early_exaggeration)) {
    throw ValueError("tsne_2d: early_exaggeration must be a finite number >= 1");
  }
  if (!(options.learning_rate >= 0.0) || !std::isfinite(options.learning_rate)) {
    throw ValueError("tsne_2d: learning_rate must be a finite number >= 0 (0: automatic)");
  }
  TsneResult result;
  result.points.assign(n, Point2{0.0, 0.0});
  if (n == 1) return result;

  // Squared distances, then the symmetric joint probabilities P.
  std::vector<double> d2(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double s = 0.0;
      for (std::size_t k = 0; k < d; ++k) {
        const double diff = x.values[i * d + k] - x.values[j * d + k];
        s += diff * diff;
      }
      d2[i * n + j] = s;
      d2[j * n + i] = s;
    }
  }
  std::vector<double> p(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) conditional_row(d2, n, i, options.perplexity, &p[i * n]);
  d2.clear();
  d2.shrink_to_fit();
  const double scale = 1.0 / (2.0 * static_cast<double>(n));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double v = std::max((p[i * n + j] + p[j * n + i]) * scale, kMinProbability);
      p[i * n + j] = v;
      p[j * n + i] = v;
    }
  }

  const double rate =
      options.learning_rate > 0.0
          ? options.learning_rate
          : std::max(static_cast<double>(n) / options.early_exaggeration / 4.0, 50.0);
  Generator gen(options.seed);
  std::vector<double> y(2 * n);
  for (double& v : y) v = 1e-4 * gen.normal();
  std::vector<double> update(2 * n, 0.0);
  std::vector<double> gains(2 * n, 1.0);
  std::vector<double> grad(2 * n, 0.0);
  std::vector<double> num(n * n, 0.0);

  for (std::int64_t it = 0; it < options.iterations; ++it) {
    const bool early = it < options.exaggeration_iterations;
    const double exaggeration = early ? options.early_exaggeration : 1.0;
    const double momentum = early ? 0.5 : 0.8;
    double z = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const double dx = y[2 * i] - y[2 * j];
        const double dy = y[2 * i + 1] - y[2 * j + 1];
        const double q = 1.0 / (1.0 + dx * dx + dy * dy);
        num[i * n + j] = q;
        z += 2.0 * q;
      }
    }
    std::fill(grad.begin(), grad.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const double q = num[i * n + j];
        const double force = 4.0 * (exaggeration * p[i * n + j] - q / z) * q;
        const double fx = force * (y[2 * i] - y[2 * j]);
        const double fy = force * (y[2 * i + 1] - y[2 * j + 1]);
        grad[2 * i] += fx;
        grad[2 * i + 1] += fy;
        grad[2 * j] -= fx;
        grad[2 * j + 1] -= fy;
      }
    }
    for (std::size_t k = 0; k < 2 * n; ++k) {
      // Gains grow where the gradient turned against the last step, shrink where it agrees.
      gains[k] = (grad[k] > 0) != (update[k] > 0) ? gains[k] + 0.2 : gains[k] * 0.8;
      gains[k] = std::max(gains[k], 0.01);
      update[k] = momentum * update[k] - rate * gains[k] * grad[k];
      y[k] += update[k];
    }
    double mx = 0.0;
    double my = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
      y[2 * i] -= mx;
      y[2 * i + 1] -= my;
    }
  }

  // KL(P || Q) at the final positions.
  double z = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dx = y[2 * i] - y[2 * j];
      const double dy = y[2 * i + 1] - y[2 * j + 1];
      num[i * n + j] = 1.0 / (1.0 + dx * dx + dy * dy);
      z += 2.0 * num[i * n + j];
    }
  }
  double kl = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double pij = p[i * n + j];
      const double qij = std::max(num[i * n + j] / z, kMinProbability);
      kl += 2.0 * pij * std::log(pij / qij);
    }
    result.points[i] = Point2{y[2 * i], y[2 * i + 1]};
  }
  result.kl_divergence = kl;
  return result;
}

}  // namespace embedkit::vectors
