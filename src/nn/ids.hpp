// Validation shared by Embedding and EmbeddingBag. Everything here runs before any write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/unknown_ids.hpp"

namespace embedkit::nn::detail {

// The table must be a defined 2-D float32/float16/bfloat16 tensor.
void check_table(const Tensor& weight, const std::string& who);

// Table dimensions given to a constructor must be >= 0.
void check_table_size(std::int64_t num_embeddings, std::int64_t embedding_dim,
                      const std::string& who);

// A caller-given table must have shape [num_embeddings, embedding_dim].
void check_given_table(const Tensor& weight, std::int64_t num_embeddings,
                       std::int64_t embedding_dim, const std::string& who);

// padding_idx in [-N, N) wrapped to [0, N); -1 when absent (the kernels' "none").
std::int64_t normalize_padding_idx(const std::optional<std::int64_t>& padding_idx,
                                   std::int64_t num_embeddings, const std::string& who);

// max_norm > 0 and finite-or-not NaN; norm_type > 0 (or +inf).
void check_max_norm(const std::optional<double>& max_norm, double norm_type,
                    const std::string& who);

// The policy's target row (MapToRow) must be inside the table.
void check_unknown_ids(const UnknownIds& policy, std::int64_t num_embeddings,
                       const std::string& who);

// ids must be int32/int64 (TypeError otherwise).
void check_ids_dtype(const Tensor& ids, const std::string& what);

// Every id in [0, num_embeddings), else IndexError naming the first bad position; or, under an
// opt-in policy, a new int64 tensor with out-of-range ids replaced by their rows.
Tensor resolve_ids(const Tensor& ids, std::int64_t num_embeddings, const UnknownIds& policy,
                   const std::string& what);

// Sets row `row` of a 2-D table to zeros (the padding row at construction and reset).
void zero_row(Tensor& weight, std::int64_t row);

}  // namespace embedkit::nn::detail
