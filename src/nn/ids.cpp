#include "nn/ids.hpp"

#include <cmath>
#include <cstring>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/index_checks.hpp"

namespace embedkit::nn::detail {

void check_table(const Tensor& weight, const std::string& who) {
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

void check_given_table(const Tensor& weight, std::int64_t num_embeddings,
                       std::int64_t embedding_dim, const std::string& who) {
  check_table(weight, who);
  if (weight.size(0) != num_embeddings || weight.size(1) != embedding_dim) {
    throw ValueError(who + ": the given weight has shape " + shape_string(weight.shape()) +
                     ", expected [" + std::to_string(num_embeddings) + ", " +
                     std::to_string(embedding_dim) + "]");
  }
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

void check_ids_dtype(const Tensor& ids, const std::string& what) {
  if (!ids.defined()) throw ValueError(what + " are undefined");
  if (!is_index(ids.dtype())) {
    throw TypeError(what + " must be int32 or int64, got " + std::string(dtype_name(ids.dtype())));
  }
}

namespace {

template <class I>
Tensor resolve_typed(const Tensor& ids, const I* data, std::int64_t num_embeddings,
                     const UnknownIds& policy, const std::string& what) {
  const std::int64_t n = ids.numel();
  const std::int64_t bad = kernels::cpu::first_id_out_of_range(data, n, num_embeddings);
  if (bad < 0) return ids;
  if (policy.is_error()) throw IndexError(what, bad, data[bad], 0, num_embeddings);
  Tensor mapped = Tensor::empty(ids.shape(), DType::Int64);
  std::int64_t* out = mapped.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t id = data[i];
    out[i] = (id < 0 || id >= num_embeddings) ? policy.resolve(id, num_embeddings) : id;
  }
  return mapped;
}

}  // namespace

Tensor resolve_ids(const Tensor& ids, std::int64_t num_embeddings, const UnknownIds& policy,
                   const std::string& what) {
  check_ids_dtype(ids, what);
  if (ids.dtype() == DType::Int32) {
    return resolve_typed(ids, ids.data<std::int32_t>(), num_embeddings, policy, what);
  }
  return resolve_typed(ids, ids.data<std::int64_t>(), num_embeddings, policy, what);
}

void zero_row(Tensor& weight, std::int64_t row) {
  const std::size_t row_bytes =
      static_cast<std::size_t>(weight.size(1)) * dtype_size(weight.dtype());
  if (row_bytes == 0) return;
  auto* base = static_cast<unsigned char*>(weight.raw_data());
  std::memset(base + static_cast<std::size_t>(row) * row_bytes, 0, row_bytes);
}

}  // namespace embedkit::nn::detail
