// A Layer is a Module (module.hpp) that is a function of one float32 tensor with a hand-written
// gradient; Sequential chains Layers. embedkit has no autograd:
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
// - named_parameters() and gradients() list the same names in the same order.
// - What a copy of a Layer shares (parameters, gradients, cached forward state): module.hpp.
#pragma once

#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/module.hpp"
#include "embedkit/nn/weight_grad.hpp"

namespace embedkit::nn {

class Layer : public Module {
 public:
  // Output for `input`; keeps what backward() needs.
  virtual Tensor forward(const Tensor& input) = 0;
  // Gradient with respect to the latest forward()'s input, given the gradient with respect to
  // its output (same shape as that output); accumulates the parameters' gradients.
  virtual Tensor backward(const Tensor& grad_output) = 0;

  // The accumulated gradient of each parameter, same names and order as named_parameters(); a
  // tensor is undefined until the first backward() (or after zero_grad(true)).
  virtual NamedTensors gradients() const { return {}; }
  // Zero-fills every defined gradient (PyTorch 1.13's default), or with set_to_none makes
  // them undefined again, so an optimizer skips the parameters until the next backward().
  virtual void zero_grad(bool set_to_none = false) { static_cast<void>(set_to_none); }

  // The gradients of parameters() as optimizer input: optim::Optimizer::step(weight_grads()).
  // An undefined gradient becomes an empty WeightGrad ("no gradient this step").
  std::vector<WeightGrad> weight_grads() const;

 protected:
  Layer() = default;
  Layer(const Layer&) = default;
  Layer& operator=(const Layer&) = default;
  Layer(Layer&&) = default;
  Layer& operator=(Layer&&) = default;

  // grad += delta (same shape), or grad = delta when grad is undefined (delta must be a fresh
  // tensor nobody else writes).
  static void accumulate_grad(Tensor& grad, const Tensor& delta);
  // Zero-fills or resets one gradient, per zero_grad()'s contract.
  static void clear_grad(Tensor& grad, bool set_to_none);
};

}  // namespace embedkit::nn
