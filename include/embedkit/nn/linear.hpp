// nn.Linear: y = x W^T (+ b), with explicit backward. Here it is the dense twin of Embedding:
// Embedding(ids) == Linear(one_hot(ids)) with W^T as the table, forward and backward.
#pragma once

#include <cstdint>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::nn {

struct LinearOptions {
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  EMBEDKIT_ARG(LinearOptions, std::int64_t, in_features);
  EMBEDKIT_ARG(LinearOptions, std::int64_t, out_features);
  EMBEDKIT_ARG(LinearOptions, bool, bias) = true;
};

struct LinearGrad {
  Tensor input;   // [..., in_features]
  Tensor weight;  // [out_features, in_features]
  Tensor bias;    // [out_features], undefined without bias
};

class Linear {
 public:
  // Weight and bias drawn from U(-1/sqrt(in), 1/sqrt(in)) as PyTorch's default.
  explicit Linear(const LinearOptions& options);
  Linear(const LinearOptions& options, Generator& gen);

  // input [..., in_features] float32 -> [..., out_features]
  Tensor forward(const Tensor& input) const;
  LinearGrad backward(const Tensor& input, const Tensor& grad_output) const;

  Tensor& weight() { return weight_; }
  const Tensor& weight() const { return weight_; }
  Tensor& bias() { return bias_; }
  const Tensor& bias() const { return bias_; }
  const LinearOptions& options() const { return options_; }

 private:
  LinearOptions options_;
  Tensor weight_;
  Tensor bias_;
};

}  // namespace embedkit::nn
