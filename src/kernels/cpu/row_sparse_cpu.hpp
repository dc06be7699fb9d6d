// Fast coalesce of a row-sparse gradient: the twin of RowSparseTensor::coalesce
// (src/core/row_sparse.cpp), which is its reference. Rows are sorted (stably) and each row's
// repeats are summed in float32 in their original order, then rounded once.
#pragma once

#include <cstdint>

#include "embedkit/core/dtype.hpp"

namespace embedkit::kernels::cpu {

// indices: n rows, each in [0, num_rows); values: n x dim. Writes the distinct rows in
// increasing order to out_indices and their sums to out_values (both sized for n) and returns
// how many there are.
template <class W>
std::int64_t coalesce_rows(const std::int64_t* indices, const W* values, std::int64_t n,
                           std::int64_t dim, std::int64_t num_rows, std::int64_t* out_indices,
                           W* out_values);

}  // namespace embedkit::kernels::cpu
