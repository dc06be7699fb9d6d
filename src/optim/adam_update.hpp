// The Adam update shared by Adam, AdamW and LazyAdam: torch.optim.adam's _single_tensor_adam
// (1.13) after weight decay, one element at a time, and the Adam state's checkpoint entries.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "embedkit/optim/adam.hpp"
#include "optim/state_io.hpp"
#include "optim/torch_ops.hpp"

namespace embedkit::optim::detail {

// The step's scalars, computed in double as the Python code does and rounded once to float32
// where they meet a tensor.
struct AdamScalars {
  float beta1;
  float one_minus_beta1;
  float beta2;
  float one_minus_beta2;
  float bias_correction2_sqrt;
  float eps;
  float neg_step_size;

  // step: the count after this step's increment.
  static AdamScalars make(double lr, const Betas& betas, double eps, double step) {
    const auto [b1, b2] = betas;
    const double bias_correction1 = 1.0 - std::pow(b1, step);
    const double bias_correction2 = 1.0 - std::pow(b2, step);
    const double step_size = lr / bias_correction1;
    return {f32(b1),  f32(1.0 - b1),  f32(b2), f32(1.0 - b2), f32(std::sqrt(bias_correction2)),
            f32(eps), f32(-step_size)};
  }
};

// One element; g is the gradient after maximize and weight decay. max_v is null without amsgrad.
inline void adam_element(float& w, float& m, float& v, float* max_v, float g,
                         const AdamScalars& s) {
  m = add_alpha(m * s.beta1, g, s.one_minus_beta1);   // exp_avg.mul_(b1).add_(g, alpha=1-b1)
  v = addcmul(v * s.beta2, g, g, s.one_minus_beta2);  // exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2)
  float second = v;
  if (max_v != nullptr) {
    *max_v = maximum(*max_v, v);
    second = *max_v;
  }
  const float denom = std::sqrt(second) / s.bias_correction2_sqrt + s.eps;
  w = addcdiv(w, m, denom, s.neg_step_size);  // param.addcdiv_(exp_avg, denom, value=-step_size)
}

// Creates the state's tensors (zeros) on the parameter's first step.
inline void init_adam_state(AdamParamState& s, const Shape& shape, bool amsgrad) {
  if (s.exp_avg.defined()) return;
  s.exp_avg = Tensor::zeros(shape);
  s.exp_avg_sq = Tensor::zeros(shape);
  if (amsgrad) s.max_exp_avg_sq = Tensor::zeros(shape);
}

inline NamedTensors adam_state_dict(const std::vector<Parameter>& params,
                                    const std::vector<AdamParamState>& state) {
  NamedTensors out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const AdamParamState& s = state[i];
    if (!s.exp_avg.defined()) continue;
    append_entry(out, params[i], "step", Tensor::scalar(s.step));
    append_entry(out, params[i], "exp_avg", s.exp_avg);
    append_entry(out, params[i], "exp_avg_sq", s.exp_avg_sq);
    if (s.max_exp_avg_sq.defined())
      append_entry(out, params[i], "max_exp_avg_sq", s.max_exp_avg_sq);
  }
  return out;
}

inline void adam_load_state_dict(const std::string& who, const NamedTensors& entries,
                                 const std::vector<Parameter>& params, bool amsgrad,
                                 std::vector<AdamParamState>& state) {
  using Kind = StateField::Kind;
  std::vector<std::vector<StateField>> fields;
  for (const Parameter& p : params) {
    fields.push_back({{"step", Kind::Step, {}},
                      {"exp_avg", Kind::Tensor, p.value.shape()},
                      {"exp_avg_sq", Kind::Tensor, p.value.shape()}});
    if (amsgrad) fields.back().push_back({"max_exp_avg_sq", Kind::Tensor, p.value.shape()});
  }
  auto loaded = parse_state_dict(who, entries, params, fields);
  for (std::size_t i = 0; i < params.size(); ++i) {
    AdamParamState s;
    if (!loaded[i].empty()) {
      s.step = static_cast<float>(loaded[i][0].data<std::int64_t>()[0]);
      s.exp_avg = loaded[i][1];
      s.exp_avg_sq = loaded[i][2];
      if (amsgrad) s.max_exp_avg_sq = loaded[i][3];
    }
    state[i] = s;
  }
}

}  // namespace embedkit::optim::detail
