// PCA to two dimensions: centre the rows, eigendecompose the smaller of X^T X [D, D] and
// X X^T [N, N] by cyclic Jacobi rotations, keep the two largest eigenvalues.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "embedkit/vectors/projection.hpp"
#include "vectors/projection_input.hpp"

namespace embedkit::vectors {
namespace {

// A symmetric matrix [n, n] (row-major, both triangles kept) and its eigenvectors.
struct SymmetricEigen {
  std::vector<double> values;   // eigenvalues, unsorted
  std::vector<double> vectors;  // [n, n]; column j is the eigenvector of values[j]
};

SymmetricEigen jacobi_eigen(std::vector<double> a, std::size_t n) {
  std::vector<double> v(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
  auto at = [n](std::vector<double>& m, std::size_t r, std::size_t c) -> double& {
    return m[r * n + c];
  };
  double total = 0.0;
  for (const double x : a) total += x * x;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0;
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) off += 2.0 * at(a, p, q) * at(a, p, q);
    }
    if (off <= 1e-30 * total || off == 0.0) break;
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = at(a, p, q);
        if (apq == 0.0) continue;
        // The rotation that zeroes a[p][q]: t = tan(angle), the smaller root of
        // t^2 + 2 t theta - 1 = 0.
        const double theta = (at(a, q, q) - at(a, p, p)) / (2.0 * apq);
        const double t =
            (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0);
        const double s = t * c;
        for (std::size_t r = 0; r < n; ++r) {
          const double arp = at(a, r, p);
          const double arq = at(a, r, q);
          at(a, r, p) = c * arp - s * arq;
          at(a, r, q) = s * arp + c * arq;
        }
        for (std::size_t r = 0; r < n; ++r) {
          const double apr = at(a, p, r);
          const double aqr = at(a, q, r);
          at(a, p, r) = c * apr - s * aqr;
          at(a, q, r) = s * apr + c * aqr;
        }
        at(a, p, q) = 0.0;
        at(a, q, p) = 0.0;
        for (std::size_t r = 0; r < n; ++r) {
          const double vrp = at(v, r, p);
          const double vrq = at(v, r, q);
          at(v, r, p) = c * vrp - s * vrq;
          at(v, r, q) = s * vrp + c * vrq;
        }
      }
    }
  }
  SymmetricEigen e;
  e.values.resize(n);
  for (std::size_t i = 0; i < n; ++i) e.values[i] = a[i * n + i];
  e.vectors = std::move(v);
  return e;
}

}  // namespace

PcaResult pca_2d(const Tensor& matrix) {
  detail::Rows x = detail::checked_rows(matrix, "pca_2d");
  const auto n = static_cast<std::size_t>(x.n);
  const auto d = static_cast<std::size_t>(x.d);
  // Centre.
  for (std::size_t k = 0; k < d; ++k) {
    double mean = 0.0;
    for (std::size_t i = 0; i < n; ++i) mean += x.values[i * d + k];
    mean /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) x.values[i * d + k] -= mean;
  }
  double total_ss = 0.0;
  for (const double v : x.values) total_ss += v * v;

  const bool by_features = d <= n;
  const std::size_t m = by_features ? d : n;
  std::vector<double> gram(m * m, 0.0);
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = r; c < m; ++c) {
      double s = 0.0;
      if (by_features) {
        for (std::size_t i = 0; i < n; ++i) s += x.values[i * d + r] * x.values[i * d + c];
      } else {
        for (std::size_t k = 0; k < d; ++k) s += x.values[r * d + k] * x.values[c * d + k];
      }
      gram[r * m + c] = s;
      gram[c * m + r] = s;
    }
  }
  const SymmetricEigen eig = jacobi_eigen(std::move(gram), m);
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return eig.values[a] > eig.values[b]; });

  PcaResult result;
  result.points.assign(n, Point2{0.0, 0.0});
  const double denominator = n > 1 ? static_cast<double>(n - 1) : 1.0;
  // Eigenvalues below this are rounding noise: that direction holds no variance.
  const double negligible = 1e-12 * total_ss;
  for (std::size_t axis = 0; axis < 2; ++axis) {
    std::vector<double> component(d, 0.0);
    const double lambda = axis < m ? eig.values[order[axis]] : 0.0;
    if (axis < m && lambda > negligible && lambda > 0.0) {
      const std::size_t col = order[axis];
      if (by_features) {
        for (std::size_t k = 0; k < d; ++k) component[k] = eig.vectors[k * m + col];
      } else {
        // v = X^T u / sqrt(lambda) is the unit component whose scores are u * sqrt(lambda).
        for (std::size_t k = 0; k < d; ++k) {
          double s = 0.0;
          for (std::size_t i = 0; i < n; ++i) s += x.values[i * d + k] * eig.vectors[i * m + col];
          component[k] = s;
        }
      }
      double norm = 0.0;
      for (const double c : component) norm += c * c;
      norm = std::sqrt(norm);
      std::size_t biggest = 0;
      for (std::size_t k = 0; k < d; ++k) {
        component[k] /= norm;
        if (std::abs(component[k]) > std::abs(component[biggest])) biggest = k;
      }
      if (component[biggest] < 0) {
        for (double& c : component) c = -c;
      }
      for (std::size_t i = 0; i < n; ++i) {
        double s = 0.0;
        for (std::size_t k = 0; k < d; ++k) s += x.values[i * d + k] * component[k];
        result.points[i][axis] = s;
      }
      result.explained_variance[axis] = n > 1 ? lambda / denominator : 0.0;
      result.explained_variance_ratio[axis] = total_ss > 0.0 ? lambda / total_ss : 0.0;
    }
    result.components[axis] = std::move(component);
  }
  return result;
}

}  // namespace embedkit::vectors
