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

// Reference for kernels/cpu/row_sums.hpp's rowwise_adagrad_step_runs: row_sums, then FBGEMM's
// row-wise Adagrad without weight decay on each run's row but frozen_row (< 0: none), as
// optim::RowWiseAdagrad's row update computes it: the squares of the row's sum added into 8
// interleaved partial sums (element j into partial j % 8, in column order) that are then added
// pairwise; their mean added to the row's accumulator; w = 1 * w - sum * (lr / (sqrt(acc) +
// eps)) per element.
inline void rowwise_adagrad_step_runs(const float* src, std::int64_t dim,
                                      const std::vector<cpu::RowTerm>& terms, float* table,
                                      float* accumulators, float lr, float eps,
                                      std::int64_t frozen_row) {
  for (const auto& [row, sum] : row_sums(src, dim, terms)) {
    if (row == frozen_row) continue;
    float partial[8] = {};
    for (std::int64_t j = 0; j < dim; ++j) {
      const float g = sum[static_cast<std::size_t>(j)];
      partial[j % 8] += g * g;
    }
    const float squares = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                          ((partial[4] + partial[5]) + (partial[6] + partial[7]));
    accumulators[row] += dim == 0 ? 0.0f : squares / static_cast<float>(dim);
    const float multiplier = lr / (std::sqrt(accumulators[row]) + eps);
    float* w = table + row * dim;
    for (std::int64_t j = 0; j < dim; ++j) {
      w[j] = 1.0f * w[j] - sum[static_cast<std::size_t>(j)] * multiplier;
    }
  }
}

// Reference for kernels/cpu/row_sums.hpp's adagrad_step_runs: row_sums, then torch.optim.Adagrad's
// sparse row update (no weight decay, not maximizing) on each run's row but frozen_row (< 0:
// none), as optim::Adagrad computes it: per element, acc = acc + g * g; w = fma(neg_clr, g /
// (sqrt(acc) + eps), w), each operation rounded.
inline void adagrad_step_runs(const float* src, std::int64_t dim,
                              const std::vector<cpu::RowTerm>& terms, float* table,
                              float* accumulators, float neg_clr, float eps,
                              std::int64_t frozen_row) {
  for (const auto& [row, sum] : row_sums(src, dim, terms)) {
    if (row == frozen_row) continue;
    float* w = table + row * dim;
    float* acc = accumulators + row * dim;
    for (std::int64_t j = 0; j < dim; ++j) {
      const float g = sum[static_cast<std::size_t>(j)];
      acc[j] = acc[j] + g * g;
      w[j] = std::fma(neg_clr, g / (std::sqrt(acc[j]) + eps), w[j]);
    }
  }
}

}  // namespace embedkit::kernels::ref
