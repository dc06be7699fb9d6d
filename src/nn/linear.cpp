#include "embedkit/nn/linear.hpp"

#include <cmath>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/gemm.hpp"
#include "layer_checks.hpp"
#include "repr.hpp"

namespace embedkit::nn {

namespace {

const std::string kWho = "Linear";

// Rows of a [..., features] tensor: the product of the leading extents (not numel / features,
// which divides by zero when features == 0).
std::int64_t leading_rows(const Tensor& t) {
  std::int64_t rows = 1;
  for (std::int64_t d = 0; d + 1 < t.dim(); ++d) rows *= t.size(d);
  return rows;
}

// input [..., in] float32.
void check_input(const Tensor& input, std::int64_t in) {
  detail::check_float32(input, kWho, "input");
  if (input.dim() < 1 || input.size(-1) != in) {
    throw ValueError(kWho + ": input must be [..., " + std::to_string(in) + "], got " +
                     shape_string(input.shape()));
  }
}

// weight [out, in] float32.
void check_weight(const Tensor& weight) {
  detail::check_float32(weight, kWho, "weight");
  if (weight.dim() != 2) {
    throw ValueError(kWho + ": weight must be 2-D [out_features, in_features], got " +
                     shape_string(weight.shape()));
  }
}

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

namespace functional {

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  check_weight(weight);
  const std::int64_t in = weight.size(1);
  const std::int64_t out_f = weight.size(0);
  check_input(input, in);
  if (bias.defined()) {
    detail::check_float32(bias, kWho, "bias");
    detail::check_shape(bias, {out_f}, kWho, "bias");
  }
  Shape shape = input.shape();
  shape.back() = out_f;
  Tensor out = Tensor::zeros(shape);
  const std::int64_t rows = leading_rows(input);
  float* y = out.data<float>();
  // y[rows, out] = x[rows, in] * W^T, with W^T a transposed view of W [out, in].
  kernels::cpu::gemm_accumulate(rows, out_f, in, {input.data<float>(), in, 1},
                                {weight.data<float>(), 1, in}, y, out_f);
  if (bias.defined()) {
    const float* b = bias.data<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t o = 0; o < out_f; ++o) y[r * out_f + o] += b[o];
    }
  }
  return out;
}

LinearGrad linear_backward(const Tensor& input, const Tensor& weight, const Tensor& grad_output,
                           bool has_bias) {
  check_weight(weight);
  const std::int64_t in = weight.size(1);
  const std::int64_t out_f = weight.size(0);
  check_input(input, in);
  Shape expected = input.shape();
  expected.back() = out_f;
  detail::check_float32(grad_output, kWho, "grad_output");
  detail::check_shape(grad_output, expected, kWho, "grad_output");
  const std::int64_t rows = leading_rows(input);
  const float* x = input.data<float>();
  const float* w = weight.data<float>();
  const float* g = grad_output.data<float>();
  LinearGrad grads;
  grads.input = Tensor::zeros(input.shape());
  grads.weight = Tensor::zeros({out_f, in});
  // dx[rows, in] = g[rows, out] * W[out, in]
  kernels::cpu::gemm_accumulate(rows, in, out_f, {g, out_f, 1}, {w, in, 1},
                                grads.input.data<float>(), in);
  // dW[out, in] = g^T[out, rows] * x[rows, in]
  kernels::cpu::gemm_accumulate(out_f, in, rows, {g, 1, out_f}, {x, in, 1},
                                grads.weight.data<float>(), in);
  if (has_bias) {
    grads.bias = Tensor::zeros({out_f});
    float* gb = grads.bias.data<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t o = 0; o < out_f; ++o) gb[o] += g[r * out_f + o];
    }
  }
  return grads;
}

}  // namespace functional

void Linear::check_parameters() const {
  detail::check_float32(weight_, kWho, "weight");
  detail::check_shape(weight_, {options_.out_features(), options_.in_features()}, kWho, "weight");
  if (bias_.defined()) {
    detail::check_float32(bias_, kWho, "bias");
    detail::check_shape(bias_, {options_.out_features()}, kWho, "bias");
  }
}

Tensor Linear::forward(const Tensor& input) {
  // The input first, then the parameters against the options: the functional form would name
  // a replaced weight's shape as the input's fault.
  check_input(input, options_.in_features());
  check_parameters();
  Tensor out = functional::linear(input, weight_, bias_);
  input_ = input;
  return out;
}

Tensor Linear::backward(const Tensor& grad_output) {
  detail::check_forward_done(input_, kWho);
  check_input(input_, options_.in_features());
  detail::check_float32(weight_, kWho, "weight");
  detail::check_shape(weight_, {options_.out_features(), options_.in_features()}, kWho, "weight");
  LinearGrad grads = functional::linear_backward(input_, weight_, grad_output, bias_.defined());
  accumulate_grad(weight_grad_, grads.weight);
  if (bias_.defined()) accumulate_grad(bias_grad_, grads.bias);
  return grads.input;
}

NamedTensors Linear::named_parameters() const {
  NamedTensors params{{"weight", weight_}};
  if (bias_.defined()) params.emplace_back("bias", bias_);
  return params;
}

NamedTensors Linear::gradients() const {
  NamedTensors grads{{"weight", weight_grad_}};
  if (bias_.defined()) grads.emplace_back("bias", bias_grad_);
  return grads;
}

void Linear::zero_grad(bool set_to_none) {
  clear_grad(weight_grad_, set_to_none);
  clear_grad(bias_grad_, set_to_none);
}

std::string Linear::repr() const {
  return "Linear(in_features=" + std::to_string(options_.in_features()) +
         ", out_features=" + std::to_string(options_.out_features()) +
         ", bias=" + detail::py_bool(bias_.defined()) + ")";
}

}  // namespace embedkit::nn
