#include "embedkit/nn/bce_with_logits_loss.hpp"

#include <cmath>

#include "embedkit/core/error.hpp"
#include "layer_checks.hpp"
#include "reduction.hpp"

namespace embedkit::nn::functional {

namespace {

// An optional per-element or per-class tensor, read as element i of the input.
class Broadcast {
 public:
  Broadcast(const Tensor& t, const Tensor& input, const std::string& who, const std::string& what) {
    if (!t.defined()) return;
    detail::check_float32(t, who, what);
    const std::int64_t classes = input.dim() > 0 ? input.size(-1) : 1;
    if (t.shape() == input.shape()) {
      period_ = 0;
    } else if (t.shape() == Shape{classes}) {
      period_ = classes;
    } else {
      throw ValueError(who + ": " + what + " must have the input's shape " +
                       shape_string(input.shape()) + " or [" + std::to_string(classes) + "], got " +
                       shape_string(t.shape()));
    }
    data_ = t.data<float>();
  }
  bool defined() const { return data_ != nullptr; }
  float operator[](std::int64_t i) const { return data_[period_ == 0 ? i : i % period_]; }

 private:
  const float* data_ = nullptr;
  std::int64_t period_ = 0;  // 0: one value per element
};

}  // namespace

LossOutput binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                            const BCEWithLogitsLossOptions& options) {
  const std::string who = "binary_cross_entropy_with_logits";
  detail::check_float32(input, who, "input");
  detail::check_float32(target, who, "target");
  detail::check_shape(target, input.shape(), who, "target");
  const Broadcast weight(options.weight(), input, who, "weight");
  const Broadcast pos_weight(options.pos_weight(), input, who, "pos_weight");
  const std::int64_t n = input.numel();
  Tensor loss = Tensor::empty(input.shape());
  Tensor grad = Tensor::empty(input.shape());
  const float* x = input.data<float>();
  const float* t = target.data<float>();
  float* l = loss.data<float>();
  float* g = grad.data<float>();
  // ATen divides the gradient by numel (an int64 scalar, rounded to float32) for Mean.
  const bool mean = options.reduction() == Reduction::Mean;
  const auto count = static_cast<float>(n);
  for (std::int64_t i = 0; i < n; ++i) {
    // max_val = (-x).clamp_min(0): std::max(-x, 0).
    const float m = -x[i] < 0.0f ? 0.0f : -x[i];
    const float log_term = std::log(std::exp(-m) + std::exp(-x[i] - m));
    const float sig = 1.0f / (1.0f + std::exp(-x[i]));
    float li;
    float gi;
    if (pos_weight.defined()) {
      const float pw = pos_weight[i];
      const float log_weight = (pw - 1.0f) * t[i] + 1.0f;
      li = (1.0f - t[i]) * x[i] + log_weight * (log_term + m);
      const float pt = pw * t[i];
      gi = ((pt + 1.0f) - t[i]) * sig - pt;
    } else {
      li = (1.0f - t[i]) * x[i] + m + log_term;
      gi = sig - t[i];
    }
    if (weight.defined()) {
      li *= weight[i];
      gi *= weight[i];
    }
    l[i] = li;
    g[i] = mean ? gi / count : gi;
  }
  return {detail::reduce_loss(loss, options.reduction()), grad};
}

}  // namespace embedkit::nn::functional
