#include "embedkit/nn/weight_grad.hpp"

namespace embedkit::nn {

WeightGrad WeightGrad::from_dense(Tensor dense) {
  WeightGrad g;
  g.dense_ = std::move(dense);
  return g;
}

WeightGrad WeightGrad::from_sparse(RowSparseTensor sparse) {
  WeightGrad g;
  g.sparse_ = std::move(sparse);
  return g;
}

const Tensor& WeightGrad::dense() const {
  if (is_sparse()) throw ValueError("the gradient is row-sparse; use sparse() or to_dense()");
  return dense_;
}

const RowSparseTensor& WeightGrad::sparse() const {
  if (!is_sparse()) throw ValueError("the gradient is dense; use dense()");
  return sparse_;
}

Tensor WeightGrad::to_dense() const {
  return is_sparse() ? sparse_.to_dense() : dense_;
}

}  // namespace embedkit::nn
