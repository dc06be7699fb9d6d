// Coalescing a row-sparse gradient the way PyTorch 1.13's CPU coalesce() does, so that the
// optimizers that coalesce (Adagrad, SparseAdam, LazyAdam, RowWiseAdagrad, SGD with momentum)
// sum repeated rows in PyTorch's order and round exactly as it does.
//
// PyTorch sorts the row indices with an unstable std::sort of (row, position) pairs compared by
// row only, then sums each row's entries in the resulting order. For rows repeated three or
// more times in a gradient of more than 16 entries that order is not the production order that
// RowSparseTensor::coalesce() uses, and the sums can differ in the last bit. Running the same
// standard-library sort on the same keys gives PyTorch's order (checked against 1.13 built with
// GCC's libstdc++, as embedkit is here; another standard library may order ties differently,
// which changes only the rounding).
#pragma once

#include "embedkit/core/row_sparse.hpp"

namespace embedkit::optim::detail {

// Sorted distinct rows with their float32 sums. grad must hold float32 values.
RowSparseTensor coalesce_like_torch(const RowSparseTensor& grad);

}  // namespace embedkit::optim::detail
