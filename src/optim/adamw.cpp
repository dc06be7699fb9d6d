#include "embedkit/optim/adamw.hpp"

#include "embedkit/core/error.hpp"
#include "optim/adam_update.hpp"
#include "optim/check.hpp"
#include "optim/rows.hpp"

namespace embedkit::optim {

AdamW::AdamW(std::vector<Parameter> params, const AdamWOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  detail::check_non_negative(options.lr(), "learning rate");
  detail::check_non_negative(options.eps(), "epsilon value");
  detail::check_beta(std::get<0>(options.betas()), 0);
  detail::check_beta(std::get<1>(options.betas()), 1);
  detail::check_non_negative(options.weight_decay(), "weight_decay value");
  state_.resize(params_.size());
}

void AdamW::update_dense(std::size_t index, const Tensor& grad) {
  const Parameter& p = params_[index];
  AdamParamState& s = state_[index];
  detail::init_adam_state(s, p.value.shape(), options_.amsgrad());
  s.step += 1.0f;
  const auto k = detail::AdamScalars::make(options_.lr(), options_.betas(), options_.eps(), s.step);
  float* w = params_[index].value.data<float>();
  float* m = s.exp_avg.data<float>();
  float* v = s.exp_avg_sq.data<float>();
  float* max_v = options_.amsgrad() ? s.max_exp_avg_sq.data<float>() : nullptr;
  const float* g = grad.data<float>();
  // param.mul_(1 - lr * weight_decay), unconditionally in PyTorch; with weight_decay 0 it is a
  // multiplication by 1, so skipping it changes nothing.
  const float decay = detail::f32(1.0 - options_.lr() * options_.weight_decay());
  const bool decays = options_.weight_decay() != 0.0;
  const bool maximize = options_.maximize();
  detail::for_each_unpadded_range(p, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      if (decays) w[i] *= decay;
      detail::adam_element(w[i], m[i], v[i], max_v ? max_v + i : nullptr, maximize ? -g[i] : g[i],
                           k);
    }
  });
}

void AdamW::update_sparse(std::size_t, const RowSparseTensor&) {
  throw ValueError(unsupported_grad_message(true));  // step() refuses it before we get here
}

NamedTensors AdamW::state_dict() const {
  return detail::adam_state_dict(params_, state_);
}

void AdamW::load_state_dict(const NamedTensors& state) {
  detail::adam_load_state_dict("AdamW.load_state_dict", state, params_, options_.amsgrad(), state_);
}

}  // namespace embedkit::optim
