// An optimizer's parameters straight from a module, so that names are written once: the
// optimizer's state_dict and a checkpoint written from named_parameters() then agree.
//
//   nn::Embedding emb(nn::EmbeddingOptions(1000, 16).padding_idx(0));
//   optim::SparseAdam opt(optim::make_parameters(emb), optim::SparseAdamOptions(1e-3));
//   // one parameter "weight", its padding row 0 never moving
//
//   nn::Sequential head(...);
//   std::vector<optim::Parameter> params = optim::make_parameters(emb, "embedding");
//   std::vector<optim::Parameter> more = optim::make_parameters(head, "head");
//   params.insert(params.end(), more.begin(), more.end());  // "embedding.weight", "head.0.weight"
//
// The Parameters share storage with the module: the optimizer updates the module's tensors.
#pragma once

#include <string>
#include <vector>

#include "embedkit/nn/module.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::optim {

// One Parameter per entry of module.named_parameters(), in order, named "<prefix>.<name>"
// (just "<name>" when prefix is empty), each with the module's padding row for it
// (Module::padding_row).
std::vector<Parameter> make_parameters(const nn::Module& module, const std::string& prefix = "");

// One Parameter per named tensor, in order, without a padding row.
std::vector<Parameter> make_parameters(const NamedTensors& named);

}  // namespace embedkit::optim
