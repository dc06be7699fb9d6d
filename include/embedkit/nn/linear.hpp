// nn.Linear: y = x W^T (+ b), with explicit backward. It is the dense twin of Embedding:
// Embedding(ids) == Linear(one_hot(ids)) with W^T as the table, forward and backward.
//
// Two ways to use it:
// - As a Layer (layer.hpp): forward(x) keeps x; backward(grad_output) returns the input's
//   gradient and accumulates weight/bias gradients (gradients()).
// - Statelessly, as PyTorch's F.linear: functional::linear(x, weight, bias) and
//   functional::linear_backward(x, weight, grad_output, has_bias) compute and return, and
//   change nothing.
// Both compute the same numbers. The matrix products sum each output over the inner dimension in
// ascending order (see src/kernels/cpu/gemm.hpp), so results are deterministic and equal bit for
// bit to the naive loops; they differ from PyTorch's BLAS by rounding only. What a copy of a
// Linear shares: module.hpp.
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/layer.hpp"

namespace embedkit::nn {

struct LinearOptions {
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  EMBEDKIT_ARG(std::int64_t, in_features);
  EMBEDKIT_ARG(std::int64_t, out_features);
  EMBEDKIT_ARG(bool, bias) = true;
};

struct LinearGrad {
  Tensor input;   // [..., in_features]
  Tensor weight;  // [out_features, in_features]
  Tensor bias;    // [out_features], undefined without bias
};

namespace functional {

// input [..., in] float32, weight [out, in] float32, bias [out] float32 or undefined ->
// [..., out]. TypeError for another element type, ValueError for another shape.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor());
// The gradients of linear() given the gradient of its output [..., out]; LinearGrad::bias is
// defined when has_bias.
LinearGrad linear_backward(const Tensor& input, const Tensor& weight, const Tensor& grad_output,
                           bool has_bias);

}  // namespace functional

class Linear : public Layer {
 public:
  // Weight and bias drawn from U(-1/sqrt(in), 1/sqrt(in)) as PyTorch's default.
  explicit Linear(const LinearOptions& options);
  Linear(const LinearOptions& options, Generator& gen);

  // input [..., in_features] float32 -> [..., out_features], keeping `input` for
  // backward(grad_output). TypeError for another element type, ValueError for another shape
  // (of the input, or of a weight or bias no longer fitting the options).
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  // "weight" [out, in] and, with bias, "bias" [out].
  NamedTensors named_parameters() const override;
  NamedTensors gradients() const override;
  void zero_grad(bool set_to_none = false) override;
  std::string repr() const override;

  Tensor& weight() { return weight_; }
  const Tensor& weight() const { return weight_; }
  Tensor& bias() { return bias_; }
  const Tensor& bias() const { return bias_; }
  const LinearOptions& options() const { return options_; }

 private:
  // The weight and bias still fit the options (they are reachable through weight()/bias()).
  void check_parameters() const;

  LinearOptions options_;
  Tensor weight_;
  Tensor bias_;
  Tensor weight_grad_;
  Tensor bias_grad_;
  Tensor input_;  // the latest forward()'s input
};

}  // namespace embedkit::nn
