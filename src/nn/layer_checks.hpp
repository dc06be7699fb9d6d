// Argument checks shared by the training layers and losses: one message format, and the
// promised error types (TypeError for an element type, ValueError for a missing tensor or a
// shape), raised before anything is computed.
#pragma once

#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::nn::detail {

// ValueError when `t` is undefined, TypeError unless it holds float32.
inline void check_float32(const Tensor& t, const std::string& who, const std::string& what) {
  if (!t.defined()) throw ValueError(who + ": " + what + " is undefined");
  if (t.dtype() != DType::Float32) {
    throw TypeError(who + ": " + what + " must be float32, got " +
                    std::string(dtype_name(t.dtype())));
  }
}

// ValueError unless `t` has exactly `shape`.
inline void check_shape(const Tensor& t, const Shape& shape, const std::string& who,
                        const std::string& what) {
  if (t.shape() != shape) {
    throw ValueError(who + ": " + what + " must have shape " + shape_string(shape) + ", got " +
                     shape_string(t.shape()));
  }
}

// ValueError unless `saved` (state a Layer's forward() keeps) is defined: backward() needs a
// forward() first.
inline void check_forward_done(const Tensor& saved, const std::string& who) {
  if (!saved.defined()) throw ValueError(who + ": backward() called before forward()");
}

}  // namespace embedkit::nn::detail
