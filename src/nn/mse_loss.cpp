#include "embedkit/nn/mse_loss.hpp"

#include "layer_checks.hpp"
#include "reduction.hpp"

namespace embedkit::nn::functional {

LossOutput mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options) {
  const std::string who = "mse_loss";
  detail::check_float32(input, who, "input");
  detail::check_float32(target, who, "target");
  detail::check_shape(target, input.shape(), who, "target");
  const std::int64_t n = input.numel();
  Tensor loss = Tensor::empty(input.shape());
  Tensor grad = Tensor::empty(input.shape());
  const float* x = input.data<float>();
  const float* y = target.data<float>();
  float* l = loss.data<float>();
  float* g = grad.data<float>();
  // ATen: norm = Mean ? 2. / numel : 2., converted to float32, then norm * (x - y) * grad_output.
  const auto scale = static_cast<float>(
      options.reduction() == Reduction::Mean ? 2.0 / static_cast<double>(n) : 2.0);
  for (std::int64_t i = 0; i < n; ++i) {
    const float d = x[i] - y[i];
    l[i] = d * d;
    g[i] = scale * d;
  }
  return {detail::reduce_loss(loss, options.reduction()), grad};
}

}  // namespace embedkit::nn::functional
