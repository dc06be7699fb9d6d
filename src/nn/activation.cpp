#include "embedkit/nn/activation.hpp"

#include <cmath>
#include <limits>

#include "embedkit/core/error.hpp"
#include "layer_checks.hpp"

namespace embedkit::nn {

namespace {

// out[i] = f(x[i]) over a float32 tensor of any shape.
template <class F>
Tensor map(const Tensor& x, F f) {
  Tensor out = Tensor::empty(x.shape());
  const float* in = x.data<float>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < x.numel(); ++i) o[i] = f(in[i]);
  return out;
}

// out[i] = f(saved[i], grad[i]), after checking grad_output against the saved tensor.
template <class F>
Tensor map_backward(const Tensor& saved, const Tensor& grad_output, const std::string& who, F f) {
  detail::check_forward_done(saved, who);
  detail::check_float32(grad_output, who, "grad_output");
  detail::check_shape(grad_output, saved.shape(), who, "grad_output");
  Tensor out = Tensor::empty(saved.shape());
  const float* s = saved.data<float>();
  const float* g = grad_output.data<float>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < saved.numel(); ++i) o[i] = f(s[i], g[i]);
  return out;
}

// Rows and row length of a tensor reduced over its last dimension.
struct Rows {
  std::int64_t count;
  std::int64_t length;
};

Rows rows_of(const Tensor& t, const std::string& who) {
  if (t.dim() < 1) throw ValueError(who + ": input must have at least one dimension");
  const std::int64_t length = t.size(-1);
  std::int64_t count = 1;
  for (std::int64_t d = 0; d + 1 < t.dim(); ++d) count *= t.size(d);
  return {count, length};
}

// Maximum of a row, NaN if the row holds one (as PyTorch's vectorized maximum).
float row_max(const float* x, std::int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return x[i];
    if (x[i] > m) m = x[i];
  }
  return m;
}

// sum(exp(x - m)) in double: exact enough that the log-sum is correctly rounded to float in
// all but rare ties.
double row_sum_exp(const float* x, std::int64_t n, float m) {
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(x[i] - m));
  return s;
}

}  // namespace

namespace functional {

Tensor log_softmax(const Tensor& input) {
  const std::string who = "log_softmax";
  detail::check_float32(input, who, "input");
  const Rows rows = rows_of(input, who);
  Tensor out = Tensor::empty(input.shape());
  const float* x = input.data<float>();
  float* y = out.data<float>();
  for (std::int64_t r = 0; r < rows.count; ++r) {
    const float* xr = x + r * rows.length;
    float* yr = y + r * rows.length;
    const float m = row_max(xr, rows.length);
    const auto lse = static_cast<float>(std::log(row_sum_exp(xr, rows.length, m)));
    // (x - max) - lse, in this order: adding max and lse first loses the small differences
    // between large logits (PyTorch keeps the same order for the same reason).
    for (std::int64_t c = 0; c < rows.length; ++c) yr[c] = (xr[c] - m) - lse;
  }
  return out;
}

Tensor log_softmax_backward(const Tensor& output, const Tensor& grad_output) {
  const std::string who = "log_softmax_backward";
  detail::check_float32(output, who, "output");
  detail::check_float32(grad_output, who, "grad_output");
  detail::check_shape(grad_output, output.shape(), who, "grad_output");
  const Rows rows = rows_of(output, who);
  Tensor grad = Tensor::empty(output.shape());
  const float* y = output.data<float>();
  const float* g = grad_output.data<float>();
  float* gx = grad.data<float>();
  for (std::int64_t r = 0; r < rows.count; ++r) {
    const std::int64_t base = r * rows.length;
    double s = 0;
    for (std::int64_t c = 0; c < rows.length; ++c) s += g[base + c];
    const auto sum = static_cast<float>(s);
    for (std::int64_t c = 0; c < rows.length; ++c) {
      gx[base + c] = g[base + c] - std::exp(y[base + c]) * sum;
    }
  }
  return grad;
}

Tensor softmax(const Tensor& input) {
  const std::string who = "softmax";
  detail::check_float32(input, who, "input");
  const Rows rows = rows_of(input, who);
  Tensor out = Tensor::empty(input.shape());
  const float* x = input.data<float>();
  float* y = out.data<float>();
  for (std::int64_t r = 0; r < rows.count; ++r) {
    const float* xr = x + r * rows.length;
    float* yr = y + r * rows.length;
    const float m = row_max(xr, rows.length);
    const double s = row_sum_exp(xr, rows.length, m);
    for (std::int64_t c = 0; c < rows.length; ++c) {
      yr[c] = static_cast<float>(std::exp(static_cast<double>(xr[c] - m)) / s);
    }
  }
  return out;
}

}  // namespace functional

Tensor ReLU::forward(const Tensor& input) {
  detail::check_float32(input, "ReLU", "input");
  // PyTorch's clamp_min(x, 0) is std::max(x, 0): -0 and nan pass through unchanged.
  output_ = map(input, [](float x) { return x < 0.0f ? 0.0f : x; });
  return output_;
}

Tensor ReLU::backward(const Tensor& grad_output) {
  return map_backward(output_, grad_output, "ReLU",
                      [](float y, float g) { return y <= 0.0f ? 0.0f : g; });
}

Tensor Tanh::forward(const Tensor& input) {
  detail::check_float32(input, "Tanh", "input");
  output_ = map(input, [](float x) { return std::tanh(x); });
  return output_;
}

Tensor Tanh::backward(const Tensor& grad_output) {
  // 1 - y * y cancels where |y| is near 1. PyTorch's AVX2 kernel is compiled with fused
  // multiply-adds, so it rounds 1 - y * y once; y * y is exact in double and so is 1 - y * y
  // (both fit 53 bits), which gives the same once-rounded float without needing FMA hardware.
  return map_backward(output_, grad_output, "Tanh", [](float y, float g) {
    const double yd = y;
    return g * static_cast<float>(1.0 - yd * yd);
  });
}

Tensor Sigmoid::forward(const Tensor& input) {
  detail::check_float32(input, "Sigmoid", "input");
  // exp(-x) overflows to inf for x < -88 and the quotient is then exactly 0; no NaN.
  output_ = map(input, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
  return output_;
}

Tensor Sigmoid::backward(const Tensor& grad_output) {
  return map_backward(output_, grad_output, "Sigmoid",
                      [](float y, float g) { return g * (1.0f - y) * y; });
}

Tensor LogSoftmax::forward(const Tensor& input) {
  output_ = functional::log_softmax(input);
  return output_;
}

Tensor LogSoftmax::backward(const Tensor& grad_output) {
  detail::check_forward_done(output_, "LogSoftmax");
  return functional::log_softmax_backward(output_, grad_output);
}

}  // namespace embedkit::nn
