#include "nn_args.hpp"

#include "arrays.hpp"
#include "embedkit/core/error.hpp"

namespace embedkit::python {

BagMode bag_mode(const std::string& mode) {
  if (mode == "sum") return BagMode::Sum;
  if (mode == "mean") return BagMode::Mean;
  if (mode == "max") return BagMode::Max;
  throw ValueError("mode has to be one of sum, mean or max, got '" + mode + "'");
}

nn::UnknownIds unknown_ids_of(const py::object& policy) {
  if (policy.is_none()) return nn::UnknownIds::error();
  if (py::isinstance<py::str>(policy)) {
    const auto name = policy.cast<std::string>();
    if (name == "error") return nn::UnknownIds::error();
    if (name == "hash") return nn::UnknownIds::hash();
    throw ValueError("unknown_ids must be None, 'error', 'hash' or a row index, got '" + name +
                     "'");
  }
  if (py::isinstance<py::int_>(policy) && !py::isinstance<py::bool_>(policy)) {
    return nn::UnknownIds::map_to_row(policy.cast<std::int64_t>());
  }
  throw TypeError("unknown_ids must be None, 'error', 'hash' or a row index");
}

Tensor required_input(const py::object& obj, std::string_view what, bool bfloat16) {
  if (obj.is_none()) throw TypeError(std::string(what) + ": expected an array, got None");
  return input_tensor(obj, what, bfloat16);
}

}  // namespace embedkit::python
