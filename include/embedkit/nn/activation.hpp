// Activation layers: ReLU, Tanh, Sigmoid and LogSoftmax, as Layers (layer.hpp) over float32
// tensors of any shape, and the log-softmax / softmax functions the losses build on. They have
// no parameters; a copy shares the output its forward() kept (module.hpp).
//
// Each backward is the formula PyTorch's autograd uses, evaluated in the same order from the
// same saved tensor, so given the same forward output the gradient is the same bit for bit:
//   ReLU     y = x < 0 ? 0 : x         (so relu(-0) = -0, relu(nan) = nan)
//            dx = y <= 0 ? 0 : dy      (threshold_backward on the output: relu'(0) = 0)
//   Tanh     dx = dy * (1 - y * y)    (1 - y * y rounded once, as PyTorch's fused AVX2 kernel)
//   Sigmoid  y = 1 / (1 + exp(-x));  dx = dy * (1 - y) * y
//   LogSoftmax (last dimension)  y = (x - max) - log(sum(exp(x - max)))
//            dx = dy - exp(y) * sum(dy)
// ReLU is bitwise equal to PyTorch; tanh, exp and log come from the C library here and from
// SLEEF in PyTorch, which can differ in the last bit.
#pragma once

#include <string>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/layer.hpp"

namespace embedkit::nn {

namespace functional {

// Numerically stable log-softmax over the last dimension of a float32 tensor (dim >= 1): the
// row maximum is subtracted before exponentiating, and the sum of exponentials is taken in
// double, so logits of any magnitude (+-100 and beyond) give finite log-probabilities.
Tensor log_softmax(const Tensor& input);
// Gradient of log_softmax given its output and the gradient of that output.
Tensor log_softmax_backward(const Tensor& output, const Tensor& grad_output);
// Probabilities over the last dimension, exp(x - max) / sum(exp(x - max)), equally stable.
Tensor softmax(const Tensor& input);

}  // namespace functional

class ReLU : public Layer {
 public:
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  std::string repr() const override { return "ReLU()"; }

 private:
  Tensor output_;
};

class Tanh : public Layer {
 public:
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  std::string repr() const override { return "Tanh()"; }

 private:
  Tensor output_;
};

class Sigmoid : public Layer {
 public:
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  std::string repr() const override { return "Sigmoid()"; }

 private:
  Tensor output_;
};

// Log-softmax over the last dimension (PyTorch's nn.LogSoftmax(dim=-1)); with NLLLoss it is
// CrossEntropyLoss in two steps.
class LogSoftmax : public Layer {
 public:
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  std::string repr() const override { return "LogSoftmax(dim=-1)"; }

 private:
  Tensor output_;
};

}  // namespace embedkit::nn
