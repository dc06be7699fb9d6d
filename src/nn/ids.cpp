#include "nn/ids.hpp"

#include <cstring>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/index_checks.hpp"
#include "nn/embedding_checks.hpp"

namespace embedkit::nn::detail {

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
  check_ids_dtype(ids.desc(), what);
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
