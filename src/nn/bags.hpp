// Turns EmbeddingBag's input forms (2-D ids, or 1-D ids + offsets, with or without the last
// offset) into one validated CSR description the kernels take. All checks run here, before the
// table is touched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/embedding_bag.hpp"

namespace embedkit::nn::detail {

struct Bags {
  Tensor rows;                       // resolved ids, 1-D, every value in [0, num_embeddings)
  std::vector<std::int64_t> bounds;  // num_bags + 1 entries; bag b = rows[bounds[b], bounds[b+1])
  std::int64_t num_bags = 0;
  Tensor per_sample_weights;  // 1-D, or undefined
};

Bags prepare_bags(const Tensor& ids, const Tensor& offsets, const Tensor& per_sample_weights,
                  const Tensor& weight, const EmbeddingBagFuncOptions& options,
                  const std::string& who);

// prepare_bags after the table's own checks (check_bag_arguments), for tables that are not a
// Tensor (the quantized ones): the unknown-id policy against num_rows, the layout, every offset,
// per-sample weights of `value_dtype`, and the ids.
Bags prepare_bags_for_rows(const Tensor& ids, const Tensor& offsets,
                           const Tensor& per_sample_weights, std::int64_t num_rows,
                           DType value_dtype, const EmbeddingBagFuncOptions& options,
                           const std::string& who);

}  // namespace embedkit::nn::detail
