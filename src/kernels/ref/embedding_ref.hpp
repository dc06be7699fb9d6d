// Reference kernels for Embedding: plain scalar C++, written for clarity. They define what the
// fast kernels must compute and are the implementation until those exist.
//
// Contract shared by every kernel here: ids are already validated (each in [0, num_rows)),
// buffers are contiguous row-major, W is float / Half / BFloat16 and all arithmetic is float32
// (double where PyTorch uses double), rounded to W once per stored value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "embedkit/core/dtype.hpp"

namespace embedkit::kernels::ref {

// out[i, :] = weight[ids[i], :]
template <class W, class I>
void gather(const W* weight, std::int64_t dim, const I* ids, std::int64_t n, W* out) {
  for (std::int64_t i = 0; i < n; ++i) {
    const W* row = weight + static_cast<std::int64_t>(ids[i]) * dim;
    std::copy(row, row + dim, out + i * dim);
  }
}

// The p-norm of a row: summed in double, then rounded to the row's dtype (PyTorch returns the
// norm as a tensor of the weight's dtype). PyTorch sums in float32 (16-bit tables: with 16-bit
// intermediates, up to a few % off), so renormalised rows agree within rounding, not bitwise;
// docs/conformance.md says so.
template <class W>
double row_norm(const W* row, std::int64_t dim, double p) {
  double norm = 0;
  if (std::isinf(p)) {
    for (std::int64_t j = 0; j < dim; ++j) norm = std::max(norm, std::fabs(double{to_f32(row[j])}));
  } else if (p == 1.0) {
    for (std::int64_t j = 0; j < dim; ++j) norm += std::fabs(double{to_f32(row[j])});
  } else if (p == 2.0) {
    for (std::int64_t j = 0; j < dim; ++j) {
      const double x = to_f32(row[j]);
      norm += x * x;
    }
    norm = std::sqrt(norm);
  } else {
    for (std::int64_t j = 0; j < dim; ++j) norm += std::pow(std::fabs(double{to_f32(row[j])}), p);
    norm = std::pow(norm, 1.0 / p);
  }
  return to_f32(from_f32<W>(static_cast<float>(norm)));
}

// max_norm: every distinct referenced row whose p-norm exceeds max_norm (strictly) is scaled
// in place by max_norm / (norm + 1e-7). The scale is a double rounded to W, as PyTorch's
// `row *= scale` with a Python float does.
template <class W, class I>
void renorm_rows(W* weight, std::int64_t dim, const I* ids, std::int64_t n, double max_norm,
                 double norm_type) {
  std::vector<std::int64_t> rows(ids, ids + n);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  for (std::int64_t r : rows) {
    W* row = weight + r * dim;
    const double norm = row_norm(row, dim, norm_type);
    if (norm > max_norm) {
      const float scale = to_f32(from_f32<W>(static_cast<float>(max_norm / (norm + 1e-7))));
      for (std::int64_t j = 0; j < dim; ++j) row[j] = from_f32<W>(to_f32(row[j]) * scale);
    }
  }
}

// How many times each row occurs among the ids (for scale_grad_by_freq).
template <class I>
std::vector<std::int64_t> row_counts(const I* ids, std::int64_t n, std::int64_t num_rows) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(num_rows), 0);
  for (std::int64_t i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(ids[i])];
  return counts;
}

// Dense gradient of the lookup: grad_weight[ids[i]] += scale_i * grad_out[i] in input order,
// skipping padding_idx (< 0: none); scale_i = 1 / count(ids[i]) with scale_grad_by_freq.
// grad_weight is num_rows x dim and is overwritten.
template <class W, class I>
void embedding_backward_dense(const W* grad_out, const I* ids, std::int64_t n, std::int64_t dim,
                              std::int64_t num_rows, std::int64_t padding_idx,
                              bool scale_grad_by_freq, W* grad_weight) {
  std::vector<float> acc(static_cast<std::size_t>(num_rows * dim), 0.0f);
  std::vector<std::int64_t> counts;
  if (scale_grad_by_freq) counts = row_counts(ids, n, num_rows);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t k = ids[i];
    if (k == padding_idx) continue;
    // PyTorch: double scale, rounded to float, then a fused multiply-add per element.
    const float scale =
        scale_grad_by_freq ? static_cast<float>(1.0 / static_cast<double>(counts[k])) : 1.0f;
    float* dst = acc.data() + k * dim;
    const W* src = grad_out + i * dim;
    for (std::int64_t j = 0; j < dim; ++j) dst[j] = std::fma(scale, to_f32(src[j]), dst[j]);
  }
  for (std::int64_t e = 0; e < num_rows * dim; ++e) grad_weight[e] = from_f32<W>(acc[e]);
}

// Row-sparse gradient of the lookup: one entry per non-padding id, in input order.
// Writes up to n entries and returns how many (padding positions are dropped; none at all when
// dim == 0: a gradient without elements is empty, as PyTorch returns it).
template <class W, class I>
std::int64_t embedding_backward_sparse(const W* grad_out, const I* ids, std::int64_t n,
                                       std::int64_t dim, std::int64_t padding_idx,
                                       std::int64_t* out_indices, W* out_values) {
  std::int64_t nnz = 0;
  if (dim == 0) return 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (ids[i] == padding_idx) continue;
    out_indices[nnz] = ids[i];
    std::copy(grad_out + i * dim, grad_out + (i + 1) * dim, out_values + nnz * dim);
    ++nnz;
  }
  return nnz;
}

}  // namespace embedkit::kernels::ref
