#include "embedkit/nn/layer.hpp"

namespace embedkit::nn {

std::vector<WeightGrad> Layer::weight_grads() const {
  std::vector<WeightGrad> grads;
  for (const auto& [name, grad] : gradients()) {
    grads.push_back(grad.defined() ? WeightGrad::from_dense(grad) : WeightGrad());
  }
  return grads;
}

void Layer::accumulate_grad(Tensor& grad, const Tensor& delta) {
  if (!grad.defined()) {
    grad = delta;
    return;
  }
  if (grad.shape() != delta.shape()) {
    // A parameter replaced by one of another shape since the last backward(): start afresh
    // rather than add mismatched gradients.
    grad = delta;
    return;
  }
  float* g = grad.data<float>();
  const float* d = delta.data<float>();
  for (std::int64_t i = 0; i < grad.numel(); ++i) g[i] += d[i];
}

void Layer::clear_grad(Tensor& grad, bool set_to_none) {
  if (set_to_none) {
    grad = Tensor();
  } else if (grad.defined()) {
    grad.fill_zero();
  }
}

}  // namespace embedkit::nn
