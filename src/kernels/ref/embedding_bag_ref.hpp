// Reference kernels for EmbeddingBag (see embedding_ref.hpp for the shared contract).
//
// Bags are described CSR-style by `bounds` (num_bags + 1 entries, non-decreasing, last ==
// number of ids): bag b holds ids[bounds[b] .. bounds[b+1]). Ids equal to padding_idx (< 0:
// none) are left out of their bag, as if absent.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/dtype.hpp"
#include "kernels/bag_grad_scale.hpp"
#include "kernels/ref/embedding_ref.hpp"

namespace embedkit::kernels::ref {

// out[b] = reduction over the bag's rows; an empty (or all-padding) bag gives zeros.
//  sum:  sum_i w_i * W[ids[i]] (w_i = per_sample_weights[i] if given, else 1): a fused
//        multiply-add, except with per-sample weights and a padding_idx, where the product is
//        rounded before the add (PyTorch takes its generic path then, and rounds there)
//  mean: (sum_i W[ids[i]]) / count, a true float32 division (what PyTorch 1.13's CPU paths
//        compute; a multiply by a rounded reciprocal differs in the last bit for ~1/3 of values)
//  max:  per column, the largest value; the first occurrence wins ties, and a NaN wins only when
//        it comes first (PyTorch's `value > current` scan). arg_max (if not null) receives the
//        winning row per column, -1 for empty bags.
template <class W, class I>
void bag_forward(const W* weight, std::int64_t dim, const I* ids, const std::int64_t* bounds,
                 std::int64_t num_bags, BagMode mode, const W* per_sample_weights,
                 std::int64_t padding_idx, W* out, std::int64_t* arg_max) {
  std::vector<float> acc(static_cast<std::size_t>(dim));
  std::vector<std::int64_t> arg(static_cast<std::size_t>(dim));
  for (std::int64_t b = 0; b < num_bags; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    std::fill(arg.begin(), arg.end(), -1);
    std::int64_t count = 0;
    for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
      const std::int64_t k = ids[i];
      if (k == padding_idx) continue;
      const W* row = weight + k * dim;
      if (mode == BagMode::Max) {
        for (std::int64_t j = 0; j < dim; ++j) {
          const float x = to_f32(row[j]);
          if (count == 0 || x > acc[j]) {
            acc[j] = x;
            arg[j] = k;
          }
        }
      } else {
        const float w = per_sample_weights != nullptr ? to_f32(per_sample_weights[i]) : 1.0f;
        if (per_sample_weights != nullptr && padding_idx >= 0) {
          for (std::int64_t j = 0; j < dim; ++j) acc[j] = acc[j] + w * to_f32(row[j]);
        } else {
          for (std::int64_t j = 0; j < dim; ++j) acc[j] = std::fma(w, to_f32(row[j]), acc[j]);
        }
      }
      ++count;
    }
    if (mode == BagMode::Mean && count > 0) {
      const auto n = static_cast<float>(count);
      for (float& a : acc) a /= n;
    }
    for (std::int64_t j = 0; j < dim; ++j) out[b * dim + j] = from_f32<W>(acc[j]);
    if (arg_max != nullptr) std::copy(arg.begin(), arg.end(), arg_max + b * dim);
  }
}

// Dense gradient of the table (num_rows x dim, overwritten).
//  sum/mean: grad[ids[i]] += scale_i * grad_out[bag(i)], ids in input order.
//  max:      grad[arg_max[b][j]][j] += grad_out[b][j] for every non-empty bag.
template <class W, class I>
void bag_backward_dense(const W* grad_out, const I* ids, const std::int64_t* bounds,
                        std::int64_t num_bags, std::int64_t dim, std::int64_t num_rows,
                        BagMode mode, const W* per_sample_weights, std::int64_t padding_idx,
                        bool scale_grad_by_freq, const std::int64_t* arg_max, W* grad_weight) {
  std::vector<float> acc(static_cast<std::size_t>(num_rows * dim), 0.0f);
  if (mode == BagMode::Max) {
    for (std::int64_t b = 0; b < num_bags; ++b) {
      for (std::int64_t j = 0; j < dim; ++j) {
        const std::int64_t k = arg_max[b * dim + j];
        if (k >= 0) acc[k * dim + j] += to_f32(grad_out[b * dim + j]);
      }
    }
  } else {
    const std::int64_t n = bounds[num_bags];
    std::vector<std::int64_t> counts;
    if (scale_grad_by_freq) counts = row_counts(ids, n, num_rows);
    for (std::int64_t b = 0; b < num_bags; ++b) {
      const std::int64_t size = bag_count(ids, bounds, b, padding_idx);
      for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
        const std::int64_t k = ids[i];
        if (k == padding_idx) continue;
        const double psw = per_sample_weights != nullptr ? to_f32(per_sample_weights[i]) : 1.0;
        const float scale = bag_grad_scale(psw, scale_grad_by_freq ? counts[k] : 1, size,
                                           mode == BagMode::Mean, scale_grad_by_freq);
        for (std::int64_t j = 0; j < dim; ++j) {
          acc[k * dim + j] = std::fma(scale, to_f32(grad_out[b * dim + j]), acc[k * dim + j]);
        }
      }
    }
  }
  for (std::int64_t e = 0; e < num_rows * dim; ++e) grad_weight[e] = from_f32<W>(acc[e]);
}

// Row-sparse gradient (sum/mean): one entry per non-padding id in input order, value
// scale_i * grad_out[bag(i)]. Returns the number of entries written: none when dim == 0 (a
// gradient without elements is empty, as PyTorch returns it).
template <class W, class I>
std::int64_t bag_backward_sparse(const W* grad_out, const I* ids, const std::int64_t* bounds,
                                 std::int64_t num_bags, std::int64_t dim, BagMode mode,
                                 const W* per_sample_weights, std::int64_t padding_idx,
                                 std::int64_t* out_indices, W* out_values) {
  std::int64_t nnz = 0;
  if (dim == 0) return 0;
  for (std::int64_t b = 0; b < num_bags; ++b) {
    const std::int64_t size = bag_count(ids, bounds, b, padding_idx);
    for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
      if (ids[i] == padding_idx) continue;
      const double psw = per_sample_weights != nullptr ? to_f32(per_sample_weights[i]) : 1.0;
      const float scale = bag_grad_scale(psw, 1, size, mode == BagMode::Mean, false);
      out_indices[nnz] = ids[i];
      for (std::int64_t j = 0; j < dim; ++j) {
        out_values[nnz * dim + j] = from_f32<W>(scale * to_f32(grad_out[b * dim + j]));
      }
      ++nnz;
    }
  }
  return nnz;
}

// Gradient of the per-sample weights (sum mode): dot(grad_out[bag(i)], W[ids[i]]), 0 at padding.
template <class W, class I>
void bag_backward_per_sample_weights(const W* grad_out, const W* weight, const I* ids,
                                     const std::int64_t* bounds, std::int64_t num_bags,
                                     std::int64_t dim, std::int64_t padding_idx, W* grad_psw) {
  for (std::int64_t b = 0; b < num_bags; ++b) {
    for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
      float dot = 0.0f;
      if (ids[i] != padding_idx) {
        const W* row = weight + static_cast<std::int64_t>(ids[i]) * dim;
        for (std::int64_t j = 0; j < dim; ++j) {
          dot = std::fma(to_f32(grad_out[b * dim + j]), to_f32(row[j]), dot);
        }
      }
      grad_psw[i] = from_f32<W>(dot);
    }
  }
}

}  // namespace embedkit::kernels::ref
