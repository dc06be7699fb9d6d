// Turns runtime element types into template arguments for the kernels.
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/error.hpp"

namespace embedkit::nn::detail {

// Calls f(W{}, I{}) with W the table's element type and I the ids' element type.
template <class F>
decltype(auto) dispatch(DType weight, DType ids, F&& f) {
  auto with_ids = [&](auto w) -> decltype(auto) {
    switch (ids) {
      case DType::Int32:
        return f(w, std::int32_t{});
      case DType::Int64:
        return f(w, std::int64_t{});
      default:
        throw TypeError("ids must be int32 or int64, got " + std::string(dtype_name(ids)));
    }
  };
  switch (weight) {
    case DType::Float32:
      return with_ids(float{});
    case DType::Float16:
      return with_ids(Half{});
    case DType::BFloat16:
      return with_ids(BFloat16{});
    default:
      throw TypeError("the table must be float32, float16 or bfloat16, got " +
                      std::string(dtype_name(weight)));
  }
}

}  // namespace embedkit::nn::detail
