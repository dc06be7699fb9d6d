// The gradient of an embedding table: a dense (num_embeddings x dim) tensor, or a
// row-sparse one holding only the rows the batch touched (EmbeddingOptions::sparse).
#pragma once

#include "embedkit/core/row_sparse.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::nn {

class WeightGrad {
 public:
  WeightGrad() = default;
  static WeightGrad from_dense(Tensor dense);
  static WeightGrad from_sparse(RowSparseTensor sparse);

  bool is_sparse() const { return sparse_.defined(); }
  // Throw ValueError when the gradient is of the other kind.
  const Tensor& dense() const;
  const RowSparseTensor& sparse() const;
  // The gradient as a dense tensor, whichever kind it is.
  Tensor to_dense() const;

 private:
  Tensor dense_;
  RowSparseTensor sparse_;
};

}  // namespace embedkit::nn
