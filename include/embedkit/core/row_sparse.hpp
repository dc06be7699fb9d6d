// A row-sparse matrix: a few rows of a (num_rows x dim) matrix, the rest zero.
//
// This is what an embedding's sparse gradient is (PyTorch: a sparse COO tensor with
// sparse_dim = 1). Rows appear in the order they were produced and may repeat
// ("uncoalesced"); coalesce() sorts them and sums the repeats.
#pragma once

#include <cstdint>

#include "embedkit/core/tensor.hpp"

namespace embedkit {

class RowSparseTensor {
 public:
  RowSparseTensor() = default;
  // indices: int64 [nnz], each in [0, num_rows); values: float [nnz, dim].
  RowSparseTensor(Tensor indices, Tensor values, std::int64_t num_rows);
  static RowSparseTensor empty(std::int64_t num_rows, std::int64_t dim, DType dtype);

  const Tensor& indices() const { return indices_; }
  const Tensor& values() const { return values_; }
  std::int64_t num_rows() const { return num_rows_; }
  std::int64_t dim() const { return values_.defined() ? values_.size(1) : 0; }
  std::int64_t nnz() const { return indices_.defined() ? indices_.numel() : 0; }
  DType dtype() const { return values_.dtype(); }
  bool defined() const { return values_.defined(); }

  // True when the rows are strictly increasing (sorted, no repeats).
  bool is_coalesced() const;
  // Sorted distinct rows; repeated rows summed in their original order with float32
  // accumulation, then rounded once to the value type.
  RowSparseTensor coalesce() const;
  // The full (num_rows x dim) matrix.
  Tensor to_dense() const;
  // Both gradients' rows, this one's first (what accumulating two backward passes gives).
  RowSparseTensor concat(const RowSparseTensor& other) const;

 private:
  Tensor indices_;
  Tensor values_;
  std::int64_t num_rows_ = 0;
};

}  // namespace embedkit
