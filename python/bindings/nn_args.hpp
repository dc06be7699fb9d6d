// Arguments the nn bindings (nn.cpp, quantized.cpp) read the same way: a bag's mode, the unknown
// ids policy, and inputs that must be given.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/unknown_ids.hpp"

namespace embedkit::python {

namespace py = pybind11;

// "sum", "mean" or "max"; ValueError otherwise.
BagMode bag_mode(const std::string& mode);

// None or "error" (IndexError), "hash", or an int row; ValueError / TypeError otherwise.
nn::UnknownIds unknown_ids_of(const py::object& policy);

// An input that must be given (ids, grad_output): None is a TypeError, as for a table.
Tensor required_input(const py::object& obj, std::string_view what, bool bfloat16 = false);

}  // namespace embedkit::python
