// one_hot(ids, num_classes): ids.shape + [num_classes] float32, 1 at each id's column.
#pragma once

#include <cstdint>

#include "embedkit/core/tensor.hpp"

namespace embedkit::nn::functional {

// ids: int32/int64, every id in [0, num_classes) (IndexError otherwise).
Tensor one_hot(const Tensor& ids, std::int64_t num_classes, DType dtype = DType::Float32);

}  // namespace embedkit::nn::functional
