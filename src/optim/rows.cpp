#include "optim/rows.hpp"

#include "embedkit/core/error.hpp"

namespace embedkit::optim::detail {

const Parameter& row_step_parameter(const std::vector<Parameter>& params, std::size_t index,
                                    const std::string& optimizer) {
  if (index >= params.size()) {
    throw ValueError(optimizer + ": parameter index " + std::to_string(index) + " out of range (" +
                     std::to_string(params.size()) + " parameters)");
  }
  const Parameter& p = params[index];
  if (p.value.dim() != 2) {
    throw ValueError(optimizer + ": row-wise updates need a 2-D parameter, '" + p.name +
                     "' has shape " + shape_string(p.value.shape()));
  }
  return p;
}

}  // namespace embedkit::optim::detail
