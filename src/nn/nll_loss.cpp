#include "embedkit/nn/nll_loss.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>

#include "embedkit/core/error.hpp"
#include "layer_checks.hpp"
#include "nll.hpp"

namespace embedkit::nn {

namespace detail {

ClassTargets check_class_targets(const std::string& who, const Tensor& input, const Tensor& target,
                                 const Tensor& weight, std::int64_t ignore_index) {
  check_float32(input, who, "input");
  if (input.dim() != 1 && input.dim() != 2) {
    throw ValueError(who + ": input must be [N, C] or [C], got " + shape_string(input.shape()));
  }
  if (!target.defined()) throw ValueError(who + ": target is undefined");
  if (!is_index(target.dtype())) {
    throw TypeError(who + ": target must hold class indices (int64 or int32), got " +
                    std::string(dtype_name(target.dtype())));
  }
  ClassTargets t;
  t.batched = input.dim() == 2;
  t.n = t.batched ? input.size(0) : 1;
  t.c = input.size(-1);
  const Shape target_shape = t.batched ? Shape{t.n} : Shape{};
  if (target.shape() != target_shape) {
    throw ValueError(who + ": target must have shape " + shape_string(target_shape) +
                     " for input " + shape_string(input.shape()) + ", got " +
                     shape_string(target.shape()));
  }
  if (weight.defined()) {
    check_float32(weight, who, "weight");
    check_shape(weight, {t.c}, who, "weight");
    t.weight = weight.data<float>();
  }
  t.ignore_index = ignore_index;
  t.target = target.to_int64_vector();
  for (std::int64_t i = 0; i < t.n; ++i) {
    const std::int64_t v = t.target[static_cast<std::size_t>(i)];
    if (v != ignore_index && (v < 0 || v >= t.c)) throw IndexError("target", i, v, 0, t.c);
  }
  return t;
}

NllValue nll_forward(const ClassTargets& t, const float* logp, Reduction reduction) {
  if (reduction == Reduction::None && t.batched) {
    Tensor loss = Tensor::empty({t.n});
    float* out = loss.data<float>();
    for (std::int64_t i = 0; i < t.n; ++i) {
      if (t.ignored(i)) {
        out[i] = 0.0f;
        continue;
      }
      const std::int64_t k = t.target[static_cast<std::size_t>(i)];
      const float w = t.weight != nullptr ? t.weight[k] : 1.0f;
      out[i] = -logp[i * t.c + k] * w;
    }
    return {loss, 0.0f};
  }
  if (t.n == 0) {
    const float value =
        reduction == Reduction::Mean ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
    return {Tensor::scalar(value), 0.0f};
  }
  // ATen's cascade sum, step for step: level j + 1 absorbs level j every 2^(level_power * j)
  // samples, which keeps the float32 error near that of a pairwise sum, and reproduces
  // PyTorch's result exactly.
  constexpr int kLevels = 8;
  const auto ceil_log2 = [](std::int64_t x) -> std::int64_t {
    return x <= 2 ? 1
                  : static_cast<std::int64_t>(std::bit_width(static_cast<std::uint64_t>(x - 1)));
  };
  const std::int64_t level_power = std::max<std::int64_t>(4, ceil_log2(t.n) / kLevels);
  const std::int64_t level_mask = (std::int64_t{1} << level_power) - 1;
  std::array<float, kLevels> weight_sums{};
  std::array<float, kLevels> loss_sums{};
  std::int64_t num_ignored = 0;
  for (std::int64_t b = 0; b < t.n; ++b) {
    if (t.ignored(b)) {
      ++num_ignored;
      continue;
    }
    const std::int64_t k = t.target[static_cast<std::size_t>(b)];
    const float data = logp[b * t.c + k];
    if (t.weight != nullptr) {
      loss_sums[0] -= data * t.weight[k];
      weight_sums[0] += t.weight[k];
    } else {
      loss_sums[0] -= data;
    }
    for (int j = 0; j + 1 < kLevels; ++j) {
      const std::int64_t mask = level_mask << (j * level_power);
      if ((b & mask) != 0) break;
      weight_sums[static_cast<std::size_t>(j + 1)] += weight_sums[static_cast<std::size_t>(j)];
      loss_sums[static_cast<std::size_t>(j + 1)] += loss_sums[static_cast<std::size_t>(j)];
      weight_sums[static_cast<std::size_t>(j)] = 0.0f;
      loss_sums[static_cast<std::size_t>(j)] = 0.0f;
    }
  }
  float total_weight = 0.0f;
  if (t.weight == nullptr) {
    total_weight = static_cast<float>(t.n - num_ignored);
  } else {
    for (float w : weight_sums) total_weight += w;
  }
  float value = 0.0f;
  for (float l : loss_sums) value += l;
  if (reduction == Reduction::Mean) value /= total_weight;
  return {Tensor::scalar(value), total_weight};
}

void nll_backward(const ClassTargets& t, Reduction reduction, float total_weight, float grad_output,
                  float* grad_logp) {
  if (reduction == Reduction::None && t.batched) {
    for (std::int64_t i = 0; i < t.n; ++i) {
      if (t.ignored(i)) continue;
      const std::int64_t k = t.target[static_cast<std::size_t>(i)];
      const float w = t.weight != nullptr ? t.weight[k] : 1.0f;
      grad_logp[i * t.c + k] += -w * grad_output;
    }
    return;
  }
  const float grad = -(reduction == Reduction::Mean ? grad_output / total_weight : grad_output);
  for (std::int64_t i = 0; i < t.n; ++i) {
    if (t.ignored(i)) continue;
    const std::int64_t k = t.target[static_cast<std::size_t>(i)];
    grad_logp[i * t.c + k] += t.weight != nullptr ? t.weight[k] * grad : grad;
  }
}

}  // namespace detail

namespace functional {

LossOutput nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  const detail::ClassTargets t = detail::check_class_targets(
      "nll_loss", input, target, options.weight(), options.ignore_index());
  const float* logp = input.data<float>();
  detail::NllValue value = detail::nll_forward(t, logp, options.reduction());
  Tensor grad = Tensor::zeros(input.shape());
  detail::nll_backward(t, options.reduction(), value.total_weight, 1.0f, grad.data<float>());
  return {value.loss, grad};
}

}  // namespace functional

}  // namespace embedkit::nn
