#include "embedkit/core/row_sparse.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace embedkit {

namespace {

template <class F>
void visit_float(DType t, F&& f) {
  switch (t) {
    case DType::Float32:
      return f(float{});
    case DType::Float16:
      return f(Half{});
    case DType::BFloat16:
      return f(BFloat16{});
    default:
      throw TypeError("row-sparse values must be float32, float16 or bfloat16, got " +
                      std::string(dtype_name(t)));
  }
}

}  // namespace

RowSparseTensor::RowSparseTensor(Tensor indices, Tensor values, std::int64_t num_rows)
    : indices_(std::move(indices)), values_(std::move(values)), num_rows_(num_rows) {
  if (!indices_.defined() || indices_.dtype() != DType::Int64 || indices_.dim() != 1) {
    throw ValueError("row-sparse indices must be a 1-D int64 tensor");
  }
  if (!values_.defined() || !is_floating(values_.dtype()) || values_.dim() != 2 ||
      values_.size(0) != indices_.size(0)) {
    throw ValueError("row-sparse values must be a float [nnz, dim] tensor with nnz = " +
                     std::to_string(indices_.numel()) + ", got shape " +
                     shape_string(values_.shape()));
  }
  const std::int64_t* idx = indices_.data<std::int64_t>();
  for (std::int64_t i = 0; i < indices_.numel(); ++i) {
    if (idx[i] < 0 || idx[i] >= num_rows_) {
      throw IndexError("row-sparse index", i, idx[i], 0, num_rows_);
    }
  }
}

RowSparseTensor RowSparseTensor::empty(std::int64_t num_rows, std::int64_t dim, DType dtype) {
  return RowSparseTensor(Tensor::empty({0}, DType::Int64), Tensor::empty({0, dim}, dtype),
                         num_rows);
}

bool RowSparseTensor::is_coalesced() const {
  const std::int64_t* idx = indices_.data<std::int64_t>();
  for (std::int64_t i = 1; i < nnz(); ++i) {
    if (idx[i] <= idx[i - 1]) return false;
  }
  return true;
}

RowSparseTensor RowSparseTensor::coalesce() const {
  const std::int64_t n = nnz();
  const std::int64_t d = dim();
  const std::int64_t* idx = indices_.data<std::int64_t>();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // Stable: repeats of a row are summed in the order they were produced.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return idx[a] < idx[b]; });
  std::int64_t unique = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    unique += (i == 0 || idx[order[i]] != idx[order[i - 1]]);
  }
  Tensor out_idx = Tensor::empty({unique}, DType::Int64);
  Tensor out_val = Tensor::empty({unique, d}, values_.dtype());
  visit_float(values_.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* src = static_cast<const W*>(values_.raw_data());
    W* dst = static_cast<W*>(out_val.raw_data());
    std::int64_t* oi = out_idx.data<std::int64_t>();
    std::vector<float> acc(static_cast<std::size_t>(d));
    std::int64_t u = -1;
    for (std::int64_t i = 0; i <= n; ++i) {
      const bool new_row = i == n || i == 0 || idx[order[i]] != idx[order[i - 1]];
      if (new_row && u >= 0) {
        for (std::int64_t j = 0; j < d; ++j) dst[u * d + j] = from_f32<W>(acc[j]);
      }
      if (i == n) break;
      if (new_row) {
        ++u;
        oi[u] = idx[order[i]];
        std::fill(acc.begin(), acc.end(), 0.0f);
      }
      const W* row = src + order[i] * d;
      for (std::int64_t j = 0; j < d; ++j) acc[j] += to_f32(row[j]);
    }
  });
  return RowSparseTensor(out_idx, out_val, num_rows_);
}

Tensor RowSparseTensor::to_dense() const {
  const RowSparseTensor c = coalesce();
  const std::int64_t d = dim();
  Tensor dense = Tensor::zeros({num_rows_, d}, values_.dtype());
  const std::size_t row_bytes = static_cast<std::size_t>(d) * dtype_size(values_.dtype());
  const std::int64_t* idx = c.indices_.data<std::int64_t>();
  const auto* src = static_cast<const unsigned char*>(c.values_.raw_data());
  auto* dst = static_cast<unsigned char*>(dense.raw_data());
  for (std::int64_t i = 0; i < c.nnz(); ++i) {
    if (row_bytes != 0) {
      std::memcpy(dst + idx[i] * static_cast<std::int64_t>(row_bytes),
                  src + i * static_cast<std::int64_t>(row_bytes), row_bytes);
    }
  }
  return dense;
}

RowSparseTensor RowSparseTensor::concat(const RowSparseTensor& other) const {
  if (other.num_rows_ != num_rows_ || other.dim() != dim() || other.dtype() != dtype()) {
    throw ValueError("concat: row-sparse tensors of different shapes or dtypes");
  }
  const std::int64_t n = nnz() + other.nnz();
  Tensor idx = Tensor::empty({n}, DType::Int64);
  Tensor val = Tensor::empty({n, dim()}, dtype());
  auto* vi = static_cast<unsigned char*>(idx.raw_data());
  auto* vv = static_cast<unsigned char*>(val.raw_data());
  if (indices_.nbytes()) std::memcpy(vi, indices_.raw_data(), indices_.nbytes());
  if (other.indices_.nbytes()) {
    std::memcpy(vi + indices_.nbytes(), other.indices_.raw_data(), other.indices_.nbytes());
  }
  if (values_.nbytes()) std::memcpy(vv, values_.raw_data(), values_.nbytes());
  if (other.values_.nbytes()) {
    std::memcpy(vv + values_.nbytes(), other.values_.raw_data(), other.values_.nbytes());
  }
  return RowSparseTensor(idx, val, num_rows_);
}

}  // namespace embedkit
