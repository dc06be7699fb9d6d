#include "embedkit/nn/module.hpp"

namespace embedkit::nn {

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> tensors;
  for (auto& [name, value] : named_parameters()) tensors.push_back(std::move(value));
  return tensors;
}

std::optional<std::int64_t> Module::padding_row(const std::string& name) const {
  static_cast<void>(name);
  return std::nullopt;
}

std::int64_t Module::num_parameters() const {
  std::int64_t n = 0;
  for (const auto& [name, value] : named_parameters()) n += value.numel();
  return n;
}

}  // namespace embedkit::nn
