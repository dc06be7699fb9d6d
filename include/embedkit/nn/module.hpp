// The base of every embedkit layer: named parameters, train/eval and a repr, as LibTorch's
// torch::nn::Module gives them. Embedding and EmbeddingBag (whose forward takes ids and whose
// backward returns a WeightGrad) are Modules; the layers that map a float32 tensor to a float32
// tensor, and that Sequential chains, are Layers (layer.hpp), Modules with forward(x) and
// backward(grad_output).
//
//   nn::Embedding emb(nn::EmbeddingOptions(1000, 16));
//   emb.named_parameters();   // {{"weight", table}}, the names PyTorch's state_dict gives
//   emb.parameters();         // {table}
//   optim::SparseAdam opt(optim::make_parameters(emb), optim::SparseAdamOptions(1e-3));
//
// The rules:
// - named_parameters() lists the trainable tensors in a stable order, named as PyTorch's
//   state_dict names them ("weight", "bias"; "0.weight", "2.bias" inside a Sequential);
//   parameters() is the same tensors without the names. Both share storage with the module: an
//   optimizer updates them in place, and a checkpoint written from named_parameters() reads
//   back into them.
// - A frozen table (from_pretrained with freeze) is still listed, as PyTorch lists a parameter
//   with requires_grad=False.
// - train(false) / eval() switches training-only behaviour (Dropout) off; modules start in
//   training mode, as in PyTorch.
// - A module is not thread-safe: a Layer's forward() writes its cached state, and max_norm
//   renormalises table rows in place.
//
// What a copy shares. Copying a module (its copy constructor; Sequential is move-only) copies
// Tensor handles, and a Tensor copy shares storage (core/tensor.hpp). So a copy:
// - SHARES the parameters' storage: an update through either (an optimizer step, max_norm,
//   reset_parameters() on an Embedding, which fills the table in place) is seen by both. Use
//   clone() on the weights for an independent module, e.g. EmbeddingOptions(...).weight(
//   other.weight().clone()).
// - SHARES the storage of the gradients accumulated so far (Layer::gradients()); the next
//   backward() of either adds into that shared tensor in place, so the other sees it, while
//   zero_grad(true) on one only drops its own handle.
// - COPIES the options, the training flag and requires_grad: train(), eval(),
//   set_requires_grad() on one leave the other alone.
// - Shares the tensors a Layer's forward() cached for backward(); each copy's next forward()
//   replaces only its own. Dropout's generator is copied by value (both draw the same masks).
// Assigning a new tensor to one copy's weight() (weight() = t) rebinds that copy only.
// tests/nn/test_module.cpp (Module.CopiesShare*) checks these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/named_tensors.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::nn {

class Module {
 public:
  virtual ~Module() = default;

  // Trainable tensors, named as in PyTorch's state_dict (empty for parameter-free modules).
  virtual NamedTensors named_parameters() const { return {}; }
  // The tensors of named_parameters(), in the same order (LibTorch's parameters()).
  std::vector<Tensor> parameters() const;
  // The row of parameter `name` that no update may move (an Embedding's padding row), resolved
  // to 0 <= row < rows; none by default. optim::make_parameters passes it to the optimizer.
  virtual std::optional<std::int64_t> padding_row(const std::string& name) const;
  // Number of trainable scalars.
  std::int64_t num_parameters() const;

  virtual void train(bool on = true) { training_ = on; }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // PyTorch's repr, e.g. "Linear(in_features=4, out_features=2, bias=True)".
  virtual std::string repr() const = 0;

 protected:
  Module() = default;
  // Copies and moves only through the concrete class, never by slicing a Module&.
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

 private:
  bool training_ = true;
};

}  // namespace embedkit::nn
