#include "embedkit/optim/module_parameters.hpp"

namespace embedkit::optim {

std::vector<Parameter> make_parameters(const nn::Module& module, const std::string& prefix) {
  std::vector<Parameter> params;
  for (const auto& [name, value] : module.named_parameters()) {
    params.push_back(
        {prefix.empty() ? name : prefix + "." + name, value, module.padding_row(name)});
  }
  return params;
}

std::vector<Parameter> make_parameters(const NamedTensors& named) {
  std::vector<Parameter> params;
  for (const auto& [name, value] : named) params.push_back({name, value, std::nullopt});
  return params;
}

}  // namespace embedkit::optim
