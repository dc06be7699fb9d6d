#include "nn/embedding_checks.hpp"

namespace embedkit::nn::detail {

void check_table(TensorDesc weight, const std::string& who) {
  if (!weight.defined()) throw ValueError(who + ": the table (weight) is undefined");
  if (weight.dim() != 2) {
    throw ValueError(who + ": the table (weight) must be 2-D, got shape " +
                     shape_string(weight.shape()));
  }
  if (!is_floating(weight.dtype())) {
    throw TypeError(who + ": the table must be float32, float16 or bfloat16, got " +
                    std::string(dtype_name(weight.dtype())));
  }
}

void check_table_size(std::int64_t num_embeddings, std::int64_t embedding_dim,
                      const std::string& who) {
  if (num_embeddings < 0 || embedding_dim < 0) {
    throw ValueError(who + ": num_embeddings and embedding_dim must be >= 0, got " +
                     std::to_string(num_embeddings) + " and " + std::to_string(embedding_dim));
  }
}

void check_given_table(TensorDesc weight, std::int64_t num_embeddings, std::int64_t embedding_dim,
                       const std::string& who) {
  check_table(weight, who);
  if (weight.size(0) != num_embeddings || weight.size(1) != embedding_dim) {
    throw ValueError(who + ": the given weight has shape " + shape_string(weight.shape()) +
                     ", expected [" + std::to_string(num_embeddings) + ", " +
                     std::to_string(embedding_dim) + "]");
  }
}

void check_num_embeddings(std::int64_t num_embeddings, const std::string& who) {
  if (num_embeddings < 0) throw ValueError(who + ": num_embeddings must be >= 0");
}

std::int64_t normalize_padding_idx(const std::optional<std::int64_t>& padding_idx,
                                   std::int64_t num_embeddings, const std::string& who) {
  if (!padding_idx) return -1;
  const std::int64_t p = *padding_idx;
  if (p >= num_embeddings || p < -num_embeddings) {
    throw ValueError(who + ": padding_idx must be within [-" + std::to_string(num_embeddings) +
                     ", " + std::to_string(num_embeddings) + "), got " + std::to_string(p));
  }
  return p < 0 ? p + num_embeddings : p;
}

void check_max_norm(const std::optional<double>& max_norm, double norm_type,
                    const std::string& who) {
  if (!max_norm) return;
  if (!(*max_norm > 0)) {  // also rejects NaN
    throw ValueError(who + ": max_norm must be > 0, got " + std::to_string(*max_norm));
  }
  if (!(norm_type > 0)) {
    throw ValueError(who + ": norm_type must be > 0 (or infinity), got " +
                     std::to_string(norm_type));
  }
}

void check_unknown_ids(const UnknownIds& policy, std::int64_t num_embeddings,
                       const std::string& who) {
  if (policy.kind() == UnknownIds::Kind::MapToRow &&
      (policy.row() < 0 || policy.row() >= num_embeddings)) {
    throw ValueError(who + ": unknown ids are mapped to row " + std::to_string(policy.row()) +
                     ", outside the table's [0, " + std::to_string(num_embeddings) + ")");
  }
  if (policy.kind() == UnknownIds::Kind::Hash && num_embeddings == 0) {
    throw ValueError(who + ": unknown ids cannot be hashed into an empty table");
  }
}

void check_sparse_options(bool sparse, bool scale_grad_by_freq, const std::string& who) {
  if (sparse && scale_grad_by_freq) {
    // PyTorch accepts the options and fails at backward; we refuse them up front.
    throw ValueError(who + ": scale_grad_by_freq is not supported with sparse gradients");
  }
}

void check_bag_options(BagMode mode, bool sparse, bool scale_grad_by_freq, const std::string& who) {
  if (mode == BagMode::Max && sparse) {
    throw ValueError(who + ": max mode does not support sparse gradients");
  }
  if (mode == BagMode::Max && scale_grad_by_freq) {
    throw ValueError(who + ": max mode does not support scale_grad_by_freq");
  }
  check_sparse_options(sparse, scale_grad_by_freq, who);
}

void check_ids_dtype(TensorDesc ids, const std::string& what) {
  if (!ids.defined()) throw ValueError(what + " are undefined");
  if (!is_index(ids.dtype())) {
    throw TypeError(what + " must be int32 or int64, got " + std::string(dtype_name(ids.dtype())));
  }
}

std::int64_t check_bag_arguments(TensorDesc weight, TensorDesc ids,
                                 const EmbeddingBagFuncOptions& options, const std::string& who) {
  check_table(weight, who);
  check_ids_dtype(ids, "ids");
  check_bag_options(options.mode(), options.sparse(), options.scale_grad_by_freq(), who);
  const std::int64_t padding = normalize_padding_idx(options.padding_idx(), weight.size(0), who);
  check_max_norm(options.max_norm(), options.norm_type(), who);
  return padding;
}

BagLayout check_bag_layout(TensorDesc ids, TensorDesc offsets, const std::string& who) {
  if (ids.dim() == 2) {
    if (offsets.defined()) {
      throw ValueError(who + ": offsets must not be given with 2-D ids (each row of ids is a bag)");
    }
    return BagLayout::Rows;
  }
  if (ids.dim() == 1) {
    if (!offsets.defined()) throw ValueError(who + ": 1-D ids need offsets");
    if (!is_index(offsets.dtype())) {
      throw TypeError(who + ": offsets must be int32 or int64, got " +
                      std::string(dtype_name(offsets.dtype())));
    }
    if (offsets.dim() != 1) {
      throw ValueError(who + ": offsets must be 1-D, got shape " + shape_string(offsets.shape()));
    }
    return BagLayout::Offsets;
  }
  throw ValueError(who + ": ids must be 1-D (with offsets) or 2-D, got shape " +
                   shape_string(ids.shape()));
}

ValueError bad_offset_error(std::int64_t b, std::int64_t value, std::int64_t previous,
                            std::int64_t n, const std::string& who) {
  if (b == 0 && value != 0) {
    return ValueError(who + ": offsets[0] must be 0, got " + std::to_string(value));
  }
  if (b > 0 && value < previous) {
    return ValueError(who + ": offsets must be non-decreasing, but offsets[" + std::to_string(b) +
                      "] = " + std::to_string(value) + " < offsets[" + std::to_string(b - 1) +
                      "] = " + std::to_string(previous));
  }
  return ValueError(who + ": offsets[" + std::to_string(b) + "] = " + std::to_string(value) +
                    " is past the end of the " + std::to_string(n) + " ids");
}

std::int64_t offsets_bag_count(std::int64_t count, std::int64_t last, std::int64_t n,
                               bool include_last_offset, const std::string& who) {
  if (include_last_offset) {
    if (count == 0) throw ValueError(who + ": include_last_offset needs at least one offset");
    if (last != n) {
      throw ValueError(who +
                       ": with include_last_offset the last offset must equal the number of ids (" +
                       std::to_string(n) + "), got " + std::to_string(last));
    }
    return count - 1;
  }
  if (count == 0 && n > 0) {
    throw ValueError(who + ": offsets is empty, so the " + std::to_string(n) +
                     " ids belong to no bag");
  }
  return count;
}

void check_per_sample_weights(TensorDesc per_sample_weights, TensorDesc ids, BagMode mode,
                              DType table_dtype, const std::string& who) {
  if (!per_sample_weights.defined()) return;
  if (mode != BagMode::Sum) {
    throw ValueError(who + ": per_sample_weights are only supported with mode sum, not " +
                     bag_mode_name(mode));
  }
  if (per_sample_weights.dtype() != table_dtype) {
    throw TypeError(who + ": per_sample_weights are " +
                    std::string(dtype_name(per_sample_weights.dtype())) + " but the table is " +
                    std::string(dtype_name(table_dtype)));
  }
  if (per_sample_weights.shape() != ids.shape()) {
    throw ValueError(who + ": per_sample_weights must have the shape of ids " +
                     shape_string(ids.shape()) + ", got " +
                     shape_string(per_sample_weights.shape()));
  }
}

void check_row_wise_bag_mode(BagMode mode, const std::string& who) {
  if (mode == BagMode::Max) {
    throw ValueError(who +
                     ": max mode's gradient is per column, not per row; use backward() "
                     "and step()");
  }
}

void check_float32_grad_output(TensorDesc grad_output, const Shape& expected,
                               const std::string& who) {
  if (!grad_output.defined() || grad_output.dtype() != DType::Float32 ||
      grad_output.shape() != expected) {
    throw ValueError(who + ": grad_output must be float32 with shape " + shape_string(expected));
  }
}

}  // namespace embedkit::nn::detail
