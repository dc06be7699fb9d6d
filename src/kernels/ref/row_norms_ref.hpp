// Reference for the squared row norms of kernels/cpu/row_norms.hpp, written from its definition.
#pragma once

#include <cstdint>

namespace embedkit::kernels::ref {

// sums[i] = the squares of row i's values, each widened to double, summed from 0 in ascending
// column order, one rounded add per step. Rows are `dim` floats apart.
inline void squared_row_norms(const float* rows, std::int64_t count, std::int64_t dim,
                              double* sums) {
  for (std::int64_t i = 0; i < count; ++i) {
    const float* row = rows + i * dim;
    double sq = 0.0;
    for (std::int64_t j = 0; j < dim; ++j) sq += static_cast<double>(row[j]) * row[j];
    sums[i] = sq;
  }
}

}  // namespace embedkit::kernels::ref
