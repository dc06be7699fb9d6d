#include "embedkit/nn/linear.hpp"

#include <cmath>

#include "embedkit/core/error.hpp"

namespace embedkit::nn {

namespace {

const std::string kWho = "Linear";

// Rows of a [..., features] tensor.
std::int64_t leading_rows(const Tensor& t) { return t.dim() == 0 ? 0 : t.numel() / t.size(-1); }

}  // namespace

Linear::Linear(const LinearOptions& options) : Linear(options, default_generator()) {}

Linear::Linear(const LinearOptions& options, Generator& gen) : options_(options) {
  if (options.in_features() < 0 || options.out_features() < 0) {
    throw ValueError(kWho + ": in_features and out_features must be >= 0");
  }
  weight_ = Tensor::empty({options.out_features(), options.in_features()});
  // PyTorch's default: kaiming_uniform(a = sqrt(5)) == U(-1/sqrt(in), 1/sqrt(in)); bias alike.
  const double bound =
      options.in_features() > 0 ? 1.0 / std::sqrt(static_cast<double>(options.in_features())) : 0;
  float* w = weight_.data<float>();
  for (std::int64_t i = 0; i < weight_.numel(); ++i) {
    w[i] = static_cast<float>((2 * gen.uniform() - 1) * bound);
  }
  if (options.bias()) {
    bias_ = Tensor::empty({options.out_features()});
    float* b = bias_.data<float>();
    for (std::int64_t i = 0; i < bias_.numel(); ++i) {
      b[i] = static_cast<float>((2 * gen.uniform() - 1) * bound);
    }
  }
}

Tensor Linear::forward(const Tensor& input) const {
  const std::int64_t in = options_.in_features();
  const std::int64_t out_f = options_.out_features();
  if (!input.defined() || input.dtype() != DType::Float32 || input.dim() < 1 ||
      input.size(-1) != in) {
    throw ValueError(kWho + ": input must be float32 [..., " + std::to_string(in) + "]");
  }
  Shape shape = input.shape();
  shape.back() = out_f;
  Tensor out = Tensor::empty(shape);
  const float* x = input.data<float>();
  const float* w = weight_.data<float>();
  const float* b = bias_.defined() ? bias_.data<float>() : nullptr;
  float* y = out.data<float>();
  const std::int64_t rows = leading_rows(input);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t o = 0; o < out_f; ++o) {
      float acc = 0.0f;
      for (std::int64_t i = 0; i < in; ++i) acc += x[r * in + i] * w[o * in + i];
      y[r * out_f + o] = b != nullptr ? acc + b[o] : acc;
    }
  }
  return out;
}

LinearGrad Linear::backward(const Tensor& input, const Tensor& grad_output) const {
  const std::int64_t in = options_.in_features();
  const std::int64_t out_f = options_.out_features();
  if (!input.defined() || input.dtype() != DType::Float32 || input.dim() < 1 ||
      input.size(-1) != in) {
    throw ValueError(kWho + ": input must be float32 [..., " + std::to_string(in) + "]");
  }
  Shape expected = input.shape();
  expected.back() = out_f;
  if (!grad_output.defined() || grad_output.dtype() != DType::Float32 ||
      grad_output.shape() != expected) {
    throw ValueError(kWho + ": grad_output must be float32 " + shape_string(expected));
  }
  const std::int64_t rows = leading_rows(input);
  const float* x = input.data<float>();
  const float* w = weight_.data<float>();
  const float* g = grad_output.data<float>();
  LinearGrad grads;
  grads.input = Tensor::zeros(input.shape());
  grads.weight = Tensor::zeros({out_f, in});
  float* gx = grads.input.data<float>();
  float* gw = grads.weight.data<float>();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t o = 0; o < out_f; ++o) {
      const float go = g[r * out_f + o];
      for (std::int64_t i = 0; i < in; ++i) {
        gx[r * in + i] += go * w[o * in + i];
        gw[o * in + i] += go * x[r * in + i];
      }
    }
  }
  if (bias_.defined()) {
    grads.bias = Tensor::zeros({out_f});
    float* gb = grads.bias.data<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t o = 0; o < out_f; ++o) gb[o] += g[r * out_f + o];
    }
  }
  return grads;
}

}  // namespace embedkit::nn
