// What pca.cpp and tsne.cpp share: the checked input matrix, copied to doubles.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::vectors::detail {

struct Rows {
  std::int64_t n = 0;
  std::int64_t d = 0;
  std::vector<double> values;  // row-major [n, d]
  double at(std::int64_t i, std::int64_t k) const {
    return values[static_cast<std::size_t>(i * d + k)];
  }
};

// `what` names the caller in errors ("pca_2d", "tsne_2d").
inline Rows checked_rows(const Tensor& matrix, const char* what) {
  if (matrix.dtype() != DType::Float32 || matrix.dim() != 2) {
    throw ValueError(std::string(what) + ": expected a float32 matrix [N, D]");
  }
  Rows r;
  r.n = matrix.size(0);
  r.d = matrix.size(1);
  if (r.n < 1 || r.d < 1) {
    throw ValueError(std::string(what) + ": expected at least one row and one column, got [" +
                     std::to_string(r.n) + ", " + std::to_string(r.d) + "]");
  }
  const float* data = matrix.data<float>();
  r.values.resize(static_cast<std::size_t>(r.n * r.d));
  for (std::int64_t i = 0; i < r.n; ++i) {
    for (std::int64_t k = 0; k < r.d; ++k) {
      const float v = data[i * r.d + k];
      if (!std::isfinite(v)) {
        throw ValueError(std::string(what) + ": row " + std::to_string(i) + " holds " +
                         (std::isnan(v) ? "NaN" : "an infinite value") + " (column " +
                         std::to_string(k) + ")");
      }
      r.values[static_cast<std::size_t>(i * r.d + k)] = v;
    }
  }
  return r;
}

}  // namespace embedkit::vectors::detail
