#include "embedkit/nn/cross_entropy_loss.hpp"

#include <limits>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/activation.hpp"
#include "nll.hpp"
#include "repr.hpp"

namespace embedkit::nn::functional {

namespace {

// The smoothing term of PyTorch's cross_entropy_loss_label_smoothing:
//   smooth_n = -sum_c weight[c] * logp[n, c], 0 where ignored,
// and its reduction: Sum, None, or Mean over the sum of the targets' weights (the count of
// samples not ignored without weights).
struct Smoothing {
  std::vector<float> per_sample;  // smooth_n
  float denominator = 1.0f;       // Mean only
};

Smoothing smoothing_terms(const detail::ClassTargets& t, const float* logp) {
  Smoothing s;
  s.per_sample.assign(static_cast<std::size_t>(t.n), 0.0f);
  double denominator = 0;
  for (std::int64_t i = 0; i < t.n; ++i) {
    if (t.ignored(i)) continue;
    double sum = 0;
    for (std::int64_t c = 0; c < t.c; ++c) {
      const float lp = logp[i * t.c + c];
      sum += t.weight != nullptr ? lp * t.weight[c] : lp;
    }
    s.per_sample[static_cast<std::size_t>(i)] = -static_cast<float>(sum);
    const std::int64_t k = t.target[static_cast<std::size_t>(i)];
    denominator += t.weight != nullptr ? t.weight[k] : 1.0f;
  }
  s.denominator = static_cast<float>(denominator);
  return s;
}

}  // namespace

LossOutput cross_entropy(const Tensor& input, const Tensor& target,
                         const CrossEntropyLossOptions& options) {
  const std::string who = "cross_entropy";
  const double eps = options.label_smoothing();
  if (!(eps >= 0.0 && eps <= 1.0)) {
    throw ValueError(
        who + ": label_smoothing must be between 0.0 and 1.0. Got: " + python_float_repr(eps));
  }
  const detail::ClassTargets t =
      detail::check_class_targets(who, input, target, options.weight(), options.ignore_index());
  const Reduction reduction = options.reduction();

  const Tensor log_p = log_softmax(input);
  const float* logp = log_p.data<float>();
  detail::NllValue nll = detail::nll_forward(t, logp, reduction);
  Tensor grad_logp = Tensor::zeros(input.shape());
  float* glp = grad_logp.data<float>();

  if (eps == 0.0) {
    detail::nll_backward(t, reduction, nll.total_weight, 1.0f, glp);
    return {nll.loss, log_softmax_backward(log_p, grad_logp)};
  }

  // loss = (1 - e) * nll + ret * (e / C), with the scalars rounded to float32 as ATen's
  // tensor-scalar products round them.
  const auto keep = static_cast<float>(1.0 - eps);
  const auto spread = static_cast<float>(eps / static_cast<double>(t.c));
  const Smoothing smooth = smoothing_terms(t, logp);
  Tensor loss;
  if (reduction == Reduction::None && t.batched) {
    loss = Tensor::empty({t.n});
    float* out = loss.data<float>();
    const float* nll_values = nll.loss.data<float>();
    for (std::int64_t i = 0; i < t.n; ++i) {
      out[i] = keep * nll_values[i] + smooth.per_sample[static_cast<std::size_t>(i)] * spread;
    }
  } else {
    double sum = 0;
    for (float v : smooth.per_sample) sum += v;
    float ret = static_cast<float>(sum);
    if (reduction == Reduction::Mean) {
      ret = t.n == 0 ? std::numeric_limits<float>::quiet_NaN() : ret / smooth.denominator;
    }
    loss = Tensor::scalar(keep * static_cast<float>(nll.loss.item_at(0)) + ret * spread);
  }

  // Backward through both terms: the NLL part with upstream gradient (1 - e); the smoothing
  // part d/d logp[n, c] = -(e / C / denominator) * weight[c] for every sample not ignored.
  detail::nll_backward(t, reduction, nll.total_weight, keep, glp);
  const float per_sample_grad = reduction == Reduction::Mean ? spread / smooth.denominator : spread;
  for (std::int64_t i = 0; i < t.n; ++i) {
    if (t.ignored(i)) continue;
    for (std::int64_t c = 0; c < t.c; ++c) {
      const float term = t.weight != nullptr ? -per_sample_grad * t.weight[c] : -per_sample_grad;
      glp[i * t.c + c] += term;
    }
  }
  return {loss, log_softmax_backward(log_p, grad_logp)};
}

}  // namespace embedkit::nn::functional
