#include "embedkit/nn/dropout.hpp"

#include "embedkit/core/error.hpp"
#include "layer_checks.hpp"
#include "repr.hpp"

namespace embedkit::nn {

namespace {

const std::string kWho = "Dropout";

DropoutOptions checked(const DropoutOptions& options) {
  // Written so that nan fails too.
  if (!(options.p() >= 0.0 && options.p() <= 1.0)) {
    throw ValueError(kWho + ": dropout probability has to be between 0 and 1, but got " +
                     python_float_repr(options.p()));
  }
  return options;
}

}  // namespace

Dropout::Dropout(const DropoutOptions& options) : Dropout(options, default_generator()) {}

Dropout::Dropout(const DropoutOptions& options, Generator& gen)
    : options_(checked(options)), gen_(gen.next_u64()) {}

Tensor Dropout::forward(const Tensor& input) {
  detail::check_float32(input, kWho, "input");
  shape_ = input.shape();
  forward_done_ = true;
  const double p = options_.p();
  if (!is_training() || p == 0.0 || input.numel() == 0) {
    noise_ = Tensor();
    return input;
  }
  noise_ = Tensor::empty(input.shape());
  float* noise = noise_.data<float>();
  // ATen: noise.bernoulli_(1 - p).div_(1 - p), a float32 division by the rounded 1 - p. With
  // p = 1 nothing is kept and the scale is never used.
  const double keep = 1.0 - p;
  const float scale = keep > 0.0 ? 1.0f / static_cast<float>(keep) : 0.0f;
  for (std::int64_t i = 0; i < noise_.numel(); ++i) {
    noise[i] = gen_.uniform() < keep ? scale : 0.0f;
  }
  Tensor out = Tensor::empty(input.shape());
  const float* x = input.data<float>();
  float* y = out.data<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) y[i] = x[i] * noise[i];
  return out;
}

Tensor Dropout::backward(const Tensor& grad_output) {
  if (!forward_done_) throw ValueError(kWho + ": backward() called before forward()");
  detail::check_float32(grad_output, kWho, "grad_output");
  detail::check_shape(grad_output, shape_, kWho, "grad_output");
  if (!noise_.defined()) return grad_output;
  Tensor grad = Tensor::empty(grad_output.shape());
  const float* g = grad_output.data<float>();
  const float* noise = noise_.data<float>();
  float* gx = grad.data<float>();
  for (std::int64_t i = 0; i < grad.numel(); ++i) gx[i] = g[i] * noise[i];
  return grad;
}

std::string Dropout::repr() const {
  return "Dropout(p=" + python_float_repr(options_.p()) + ", inplace=False)";
}

}  // namespace embedkit::nn
