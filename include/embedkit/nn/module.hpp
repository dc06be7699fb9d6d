// The layer interface of embedkit's training stack: explicit forward and backward, no autograd.
//
// A Module is a function of one float32 tensor with a hand-written gradient:
//
//   Tensor y  = m.forward(x);      // computes y and keeps what backward needs (x, y or a mask)
//   Tensor gx = m.backward(gy);    // d(loss)/dx given d(loss)/dy, for the latest forward; it
//                                  // also ADDS d(loss)/d(parameter) into each parameter's gradient
//   optimizer.step(m.weight_grads());
//   m.zero_grad();
//
// The rules, chosen to match what a PyTorch user expects from autograd:
// - backward() uses the state of the most recent forward(). Calling it again repeats the same
//   backward (as retain_graph=True would), and accumulates the parameter gradients again.
//   backward() before any forward() raises ValueError.
// - What forward() keeps shares storage with its input or output (no copy): modifying the
//   input in place between forward() and backward() changes the gradient. (PyTorch detects
//   this with version counters; embedkit has no in-place tensor operations of its own.)
// - Parameter gradients accumulate across backward() calls until zero_grad(), like .grad.
//   Before the first backward() a gradient is undefined (PyTorch's None): the optimizer then
//   leaves that parameter alone.
// - parameters() and gradients() list the same names in the same order, the names PyTorch's
//   state_dict would give ("weight", "bias"; "0.weight", "2.bias" inside a Sequential).
//   The tensors share storage with the module: an optimizer updates them in place.
// - train(false) / eval() switches training-only behaviour (Dropout) off; modules start in
//   training mode, as in PyTorch.
// - A module is not thread-safe: forward() writes the module's cached state.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/named_tensors.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/weight_grad.hpp"

namespace embedkit::nn {

class Module {
 public:
  virtual ~Module() = default;

  // Output for `input`; keeps what backward() needs.
  virtual Tensor forward(const Tensor& input) = 0;
  // Gradient with respect to the latest forward()'s input, given the gradient with respect to
  // its output (same shape as that output); accumulates the parameters' gradients.
  virtual Tensor backward(const Tensor& grad_output) = 0;

  // Trainable tensors, named as in PyTorch's state_dict (empty for parameter-free modules).
  virtual NamedTensors parameters() const { return {}; }
  // The accumulated gradient of each parameter, same names and order as parameters(); a
  // tensor is undefined until the first backward() (or after zero_grad(true)).
  virtual NamedTensors gradients() const { return {}; }
  // Zero-fills every defined gradient (PyTorch 1.13's default), or with set_to_none makes
  // them undefined again, so an optimizer skips the parameters until the next backward().
  virtual void zero_grad(bool set_to_none = false) { static_cast<void>(set_to_none); }

  // The gradients of parameters() as optimizer input: optim::Optimizer::step(weight_grads()).
  // An undefined gradient becomes an empty WeightGrad ("no gradient this step").
  std::vector<WeightGrad> weight_grads() const;
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

  // grad += delta (same shape), or grad = delta when grad is undefined (delta must be a fresh
  // tensor nobody else writes).
  static void accumulate_grad(Tensor& grad, const Tensor& delta);
  // Zero-fills or resets one gradient, per zero_grad()'s contract.
  static void clear_grad(Tensor& grad, bool set_to_none);

 private:
  bool training_ = true;
};

}  // namespace embedkit::nn
