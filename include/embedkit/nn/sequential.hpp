// nn.Sequential: layers (layer.hpp) applied in order; backward runs them in reverse.
//
//   Sequential model(Linear(LinearOptions(16, 32), gen), ReLU(),
//                    Linear(LinearOptions(32, 4), gen));
//   Tensor logits = model.forward(x);
//   model.backward(loss.grad_input);
//   model.named_parameters();  // "0.weight", "0.bias", "2.weight", "2.bias", as PyTorch names
//
// Children are held by shared_ptr: push_back(module) stores a copy (or the moved module) and
// returns a reference to it; push_back(shared_ptr) shares a module the caller keeps. train() and
// zero_grad() reach every child. A Sequential is movable, not copyable (a copy would share its
// children's parameters, which is rarely what is meant).
#pragma once

#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/layer.hpp"

namespace embedkit::nn {

template <class M>
concept LayerValue = std::derived_from<std::remove_cvref_t<M>, Layer>;

// A Sequential is itself a Layer, so Sequentials nest.
class Sequential : public Layer {
 public:
  Sequential() = default;
  template <LayerValue... M>
  requires(sizeof...(M) > 0) explicit Sequential(M&&... modules) {
    (push_back(std::forward<M>(modules)), ...);
  }
  Sequential(const Sequential&) = delete;
  Sequential& operator=(const Sequential&) = delete;
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;

  // Appends a copy of (or moves in) `module`; returns the stored module.
  template <LayerValue M>
  std::remove_cvref_t<M>& push_back(M&& module) {
    auto owned = std::make_shared<std::remove_cvref_t<M>>(std::forward<M>(module));
    auto& ref = *owned;
    modules_.push_back(std::move(owned));
    return ref;
  }
  // Appends a layer shared with the caller (ValueError when null).
  void push_back(std::shared_ptr<Layer> module);

  std::size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  // Child i (IndexError when i >= size()).
  Layer& operator[](std::size_t i) const;
  std::shared_ptr<Layer> ptr(std::size_t i) const;
  // Child i as its concrete type (TypeError when it is another).
  template <class M>
  M& at(std::size_t i) const {
    auto* m = dynamic_cast<M*>(&(*this)[i]);
    if (m == nullptr) {
      throw TypeError("Sequential: module " + std::to_string(i) + " is " + (*this)[i].repr() +
                      ", not the requested type");
    }
    return *m;
  }

  // An empty Sequential is the identity, as in PyTorch.
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  // Child i's names prefixed with "i.".
  NamedTensors named_parameters() const override;
  NamedTensors gradients() const override;
  // Child i's padding row of its parameter `name` when asked for "i.name".
  std::optional<std::int64_t> padding_row(const std::string& name) const override;
  void zero_grad(bool set_to_none = false) override;
  void train(bool on = true) override;
  // PyTorch's multi-line repr: "Sequential(\n  (0): Linear(...)\n  (1): ReLU()\n)".
  std::string repr() const override;

 private:
  std::vector<std::shared_ptr<Layer>> modules_;
  bool forward_done_ = false;
};

}  // namespace embedkit::nn
