// Reference for kernels/cpu/row_sums.hpp: each run of one row in terms sorted by dst, summed
// from +0.0f with one fma per term and element, in term order.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/cpu/isa_kernels.hpp"

namespace embedkit::kernels::ref {

// (row, its summed gradient row) for each run, rows ascending. src: dim floats per row.
inline std::vector<std::pair<std::int64_t, std::vector<float>>> row_sums(
    const float* src, std::int64_t dim, const std::vector<cpu::RowTerm>& terms) {
  std::vector<std::pair<std::int64_t, std::vector<float>>> out;
  for (std::size_t k = 0; k < terms.size(); ++k) {
    if (k == 0 || terms[k].dst != terms[k - 1].dst) {
      out.emplace_back(terms[k].dst, std::vector<float>(static_cast<std::size_t>(dim), 0.0f));
    }
    std::vector<float>& sum = out.back().second;
    const float* g = src + terms[k].src * dim;
    for (std::int64_t j = 0; j < dim; ++j) {
      sum[static_cast<std::size_t>(j)] =
          std::fma(terms[k].scale, g[j], sum[static_cast<std::size_t>(j)]);
    }
  }
  return out;
}

// Reference for kernels/cpu/row_sums.hpp's sgd_step_runs: row_sums, then plain SGD's update of
// each run's table row but frozen_row (< 0: none), w = fma(step, sum, w) per element.
inline void sgd_step_runs(const float* src, std::int64_t dim,
                          const std::vector<cpu::RowTerm>& terms, float* table, float step,
                          std::int64_t frozen_row) {
  for (const auto& [row, sum] : row_sums(src, dim, terms)) {
    if (row == frozen_row) continue;
    float* w = table + row * dim;
    for (std::int64_t j = 0; j < dim; ++j) {
      w[j] = std::fma(step, sum[static_cast<std::size_t>(j)], w[j]);
    }
  }
}

}  // namespace embedkit::kernels::ref
