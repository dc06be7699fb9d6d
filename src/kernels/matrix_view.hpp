// A strided view of a float32 matrix: the operand type of the matrix product's twins
// (kernels/ref/gemm_ref.hpp and kernels/cpu/gemm.hpp), which both include it.
#pragma once

#include <cstdint>

namespace embedkit::kernels {

// Element (i, j) is data[i * row_stride + j * col_stride]. Transposes are views with the strides
// swapped, so no operand is ever copied just to transpose it.
struct MatrixView {
  const float* data;
  std::int64_t row_stride;
  std::int64_t col_stride;
};

}  // namespace embedkit::kernels
