// The ids of a CPU lookup, resolved against the table before any write; and the padding row's
// reset. The checks that need no values are in nn/embedding_checks.hpp (shared by every backend).
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/unknown_ids.hpp"

namespace embedkit::nn::detail {

// ids must be int32/int64 (check_ids_dtype). Every id in [0, num_embeddings), else IndexError
// naming the first bad position; or, under an opt-in policy, a new int64 tensor with
// out-of-range ids replaced by their rows.
Tensor resolve_ids(const Tensor& ids, std::int64_t num_embeddings, const UnknownIds& policy,
                   const std::string& what);

// Sets row `row` of a 2-D table to zeros (the padding row at construction and reset).
void zero_row(Tensor& weight, std::int64_t row);

}  // namespace embedkit::nn::detail
