// The argument checks of embedding and embedding_bag, written once for every backend, as
// PyTorch declares check_arguments once for all of EmbeddingBag's. They read only what a
// TensorDesc holds (given or not, dtype, shape) and the options, so the CPU functions (src/nn),
// the CUDA backend (src/cuda) and the quantized, memory-mapped and sharded tables to come raise
// the same errors, with the same texts, in the same order. What needs the tensors' values (the
// scan of ids and offsets) stays with each backend; it reports what it finds through the
// functions below that take the offending values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor_desc.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/unknown_ids.hpp"

namespace embedkit::nn::detail {

// ---- the table ----------------------------------------------------------------------------

// The table must be a defined 2-D float32/float16/bfloat16 tensor.
void check_table(TensorDesc weight, const std::string& who);

// Table dimensions given to a constructor must be >= 0.
void check_table_size(std::int64_t num_embeddings, std::int64_t embedding_dim,
                      const std::string& who);

// A caller-given table must have shape [num_embeddings, embedding_dim].
void check_given_table(TensorDesc weight, std::int64_t num_embeddings, std::int64_t embedding_dim,
                       const std::string& who);

// A backward given the table's row count instead of the table: it must be >= 0.
void check_num_embeddings(std::int64_t num_embeddings, const std::string& who);

// ---- options ------------------------------------------------------------------------------

// padding_idx in [-N, N) wrapped to [0, N); -1 when absent (the kernels' "none").
std::int64_t normalize_padding_idx(const std::optional<std::int64_t>& padding_idx,
                                   std::int64_t num_embeddings, const std::string& who);

// max_norm > 0 and finite-or-not NaN; norm_type > 0 (or +inf).
void check_max_norm(const std::optional<double>& max_norm, double norm_type,
                    const std::string& who);

// The policy's target row (MapToRow) must be inside the table.
void check_unknown_ids(const UnknownIds& policy, std::int64_t num_embeddings,
                       const std::string& who);

// sparse with scale_grad_by_freq is refused.
void check_sparse_options(bool sparse, bool scale_grad_by_freq, const std::string& who);

// max mode with sparse or with scale_grad_by_freq is refused, then check_sparse_options.
void check_bag_options(BagMode mode, bool sparse, bool scale_grad_by_freq, const std::string& who);

// ---- ids and bags -------------------------------------------------------------------------

// ids must be given (ValueError) and int32/int64 (TypeError). `what` names them ("ids").
void check_ids_dtype(TensorDesc ids, const std::string& what);

// embedding_bag's checks that need no values, in PyTorch's order: the table, the ids' dtype,
// the option combinations, padding_idx (returned normalised, -1 for none) and max_norm. The
// backend checks the unknown-ids policy next (the CPU: check_unknown_ids).
std::int64_t check_bag_arguments(TensorDesc weight, TensorDesc ids,
                                 const EmbeddingBagFuncOptions& options, const std::string& who);

// How the bags are given, which the ids' and offsets' shapes decide.
enum class BagLayout {
  Rows,     // 2-D ids [B, L], no offsets: each row is a bag
  Offsets,  // 1-D ids cut by 1-D int32/int64 offsets
};
// Throws for any other combination of ids and offsets.
BagLayout check_bag_layout(TensorDesc ids, TensorDesc offsets, const std::string& who);

// The error for the first offset b a backend's scan found bad (offsets[0] != 0, then the first b
// with offsets[b] < offsets[b - 1] or offsets[b] > n), given its value and, for b > 0, the value
// before it. The caller throws it.
ValueError bad_offset_error(std::int64_t b, std::int64_t value, std::int64_t previous,
                            std::int64_t n, const std::string& who);

// The number of bags `count` valid offsets make of n ids, after the checks of
// include_last_offset (the last offset must close the ids) and of empty offsets. `last` is
// offsets[count - 1]; it is read only with include_last_offset and count > 0.
std::int64_t offsets_bag_count(std::int64_t count, std::int64_t last, std::int64_t n,
                               bool include_last_offset, const std::string& who);

// per_sample_weights, when given: sum mode only, the table's dtype, the ids' shape.
void check_per_sample_weights(TensorDesc per_sample_weights, TensorDesc ids, BagMode mode,
                              DType table_dtype, const std::string& who);

// ---- the fused backward + step ------------------------------------------------------------

// A row-wise update needs per-row gradients: max mode's is per column.
void check_row_wise_bag_mode(BagMode mode, const std::string& who);

// grad_output must be float32 with exactly `expected` as its shape.
void check_float32_grad_output(TensorDesc grad_output, const Shape& expected,
                               const std::string& who);

}  // namespace embedkit::nn::detail
