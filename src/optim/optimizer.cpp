#include "embedkit/optim/optimizer.hpp"

#include <set>

#include "embedkit/core/error.hpp"

namespace embedkit::optim {

namespace {

bool is_undefined(const nn::WeightGrad& g) {
  return !g.is_sparse() && !g.dense().defined();
}

}  // namespace

Optimizer::Optimizer(std::vector<Parameter> params) : params_(std::move(params)) {
  if (params_.empty()) throw ValueError("optimizer got an empty parameter list");
  std::set<std::string> names;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = params_[i];
    // Names key the state_dict, so they must tell parameters apart.
    if (p.name.empty()) throw ValueError("parameter " + std::to_string(i) + " has no name");
    if (!names.insert(p.name).second) {
      throw ValueError("parameter name '" + p.name + "' is used twice");
    }
    if (!p.value.defined()) throw ValueError("parameter '" + p.name + "' is undefined");
    p.value.check_writable("optimizer: parameter '" + p.name + "'");
    if (p.value.dtype() != DType::Float32) {
      throw TypeError("parameter '" + p.name + "' must be float32, got " +
                      std::string(dtype_name(p.value.dtype())));
    }
    // One tensor given twice would be stepped twice per step() (PyTorch refuses it too).
    for (std::size_t j = 0; j < i; ++j) {
      if (params_[j].value.shares_storage_with(p.value)) {
        throw ValueError("parameters '" + params_[j].name + "' and '" + p.name + "' share storage");
      }
    }
    if (p.padding_idx) {
      const std::int64_t rows = p.value.dim() == 0 ? 0 : p.value.size(0);
      std::int64_t pad = *p.padding_idx;
      if (pad < 0) pad += rows;  // as Embedding: negative counts from the end
      if (pad < 0 || pad >= rows) {
        throw ValueError("parameter '" + p.name + "': padding_idx " +
                         std::to_string(*p.padding_idx) + " is not a row of a tensor of shape " +
                         shape_string(p.value.shape()));
      }
      p.padding_idx = pad;
    }
  }
}

RowStep Optimizer::begin_row_step(std::size_t index) {
  static_cast<void>(index);
  throw ValueError(name() + " has no row-wise update, so it cannot be fused into the backward");
}

std::vector<RowStateTable> Optimizer::row_state_tables(std::size_t index) const {
  static_cast<void>(index);
  return {};
}

std::string Optimizer::unsupported_grad_message(bool sparse) const {
  return name() + " does not support " + (sparse ? "sparse" : "dense") + " gradients";
}

void Optimizer::step(const std::vector<nn::WeightGrad>& grads) {
  const std::string who = name() + ".step";
  if (grads.size() != params_.size()) {
    throw ValueError(who + ": expected " + std::to_string(params_.size()) +
                     " gradients (one per parameter), got " + std::to_string(grads.size()));
  }
  // Everything is checked before the first parameter moves, so an error leaves the parameters
  // and the state as they were (PyTorch can fail half-way through a step).
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const nn::WeightGrad& g = grads[i];
    const Parameter& p = params_[i];
    if (is_undefined(g)) continue;
    if (g.is_sparse() ? !supports_sparse() : !supports_dense()) {
      throw ValueError(unsupported_grad_message(g.is_sparse()));
    }
    const DType dtype = g.is_sparse() ? g.sparse().dtype() : g.dense().dtype();
    if (dtype != DType::Float32) {
      throw TypeError(who + ": the gradient of '" + p.name + "' must be float32, got " +
                      std::string(dtype_name(dtype)));
    }
    if (g.is_sparse()) {
      const RowSparseTensor& s = g.sparse();
      if (p.value.dim() != 2 || s.num_rows() != p.value.size(0) || s.dim() != p.value.size(1)) {
        throw ValueError(who + ": the row-sparse gradient of '" + p.name + "' has shape " +
                         shape_string({s.num_rows(), s.dim()}) + " but the parameter has shape " +
                         shape_string(p.value.shape()));
      }
    } else if (g.dense().shape() != p.value.shape()) {
      throw ValueError(who + ": the gradient of '" + p.name + "' has shape " +
                       shape_string(g.dense().shape()) + " but the parameter has shape " +
                       shape_string(p.value.shape()));
    }
  }
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const nn::WeightGrad& g = grads[i];
    if (is_undefined(g)) continue;
    if (g.is_sparse()) {
      update_sparse(i, g.sparse());
    } else {
      update_dense(i, g.dense());
    }
  }
}

}  // namespace embedkit::optim
