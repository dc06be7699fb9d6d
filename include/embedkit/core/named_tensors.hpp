// Tensors with names, in a stable order: a module's parameters ("weight", "0.bias"), an
// optimizer's state, the tensors of a safetensors file or a checkpoint. One type for all of
// them, so what one layer hands the next needs no conversion (PyTorch's state_dict is an
// ordered dict of the same pairs).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/tensor.hpp"

namespace embedkit {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

}  // namespace embedkit
