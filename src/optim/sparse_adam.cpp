#include "embedkit/optim/sparse_adam.hpp"

#include <cmath>

#include "embedkit/core/error.hpp"
#include "optim/check.hpp"
#include "optim/coalesce.hpp"
#include "optim/row_update_clones.hpp"
#include "optim/rows.hpp"
#include "optim/state_io.hpp"
#include "optim/torch_ops.hpp"

namespace embedkit::optim {

using detail::f32;

SparseAdam::SparseAdam(std::vector<Parameter> params, const SparseAdamOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  detail::check_positive(options.lr(), "learning rate");
  detail::check_positive(options.eps(), "epsilon value");
  detail::check_beta(std::get<0>(options.betas()), 0);
  detail::check_beta(std::get<1>(options.betas()), 1);
  state_.resize(params_.size());
}

std::string SparseAdam::unsupported_grad_message(bool sparse) const {
  if (!sparse) return "SparseAdam does not support dense gradients, please consider Adam instead";
  return Optimizer::unsupported_grad_message(sparse);
}

void SparseAdam::update_dense(std::size_t, const Tensor&) {
  throw ValueError(unsupported_grad_message(false));  // step() refuses it before we get here
}

namespace {

struct RowScalars {
  float neg_step_size;
  float one_minus_beta1;
  float one_minus_beta2;
  float eps;
  bool maximize;
};

// One row of torch/optim/_functional.py sparse_adam, operation for operation.
EMBEDKIT_ROW_UPDATE_CLONES
void row_update(float* w, float* m, float* v, const float* gk, std::int64_t dim,
                const RowScalars& k) {
  for (std::int64_t j = 0; j < dim; ++j) {
    const float g = k.maximize ? -gk[j] : gk[j];
    const float old_m = m[j];
    const float m_update = (g - old_m) * k.one_minus_beta1;
    m[j] = old_m + m_update;
    const float old_v = v[j];
    const float v_update = (g * g - old_v) * k.one_minus_beta2;
    v[j] = old_v + v_update;
    // numer and denom are recomputed from the updates, as PyTorch does ("dense addition
    // again"); the sums equal the stored moments bit for bit.
    const float numer = m_update + old_m;
    const float denom = std::sqrt(v_update + old_v) + k.eps;
    w[j] = w[j] + k.neg_step_size * (numer / denom);
  }
}

}  // namespace

// torch/optim/_functional.py sparse_adam, operation for operation.
RowStep SparseAdam::begin_row_step(std::size_t index) {
  const Parameter& p = detail::row_step_parameter(params_, index, "SparseAdam");
  State& s = state_[index];
  if (!s.exp_avg.defined()) {
    s.exp_avg = Tensor::zeros(p.value.shape());
    s.exp_avg_sq = Tensor::zeros(p.value.shape());
  }
  s.step += 1;
  const auto [beta1, beta2] = options_.betas();
  const double step = static_cast<double>(s.step);
  const double bias_correction1 = 1.0 - std::pow(beta1, step);
  const double bias_correction2 = 1.0 - std::pow(beta2, step);
  const float neg_step_size =
      f32(-(options_.lr() * std::sqrt(bias_correction2) / bias_correction1));
  const float one_minus_beta1 = f32(1.0 - beta1);
  const float one_minus_beta2 = f32(1.0 - beta2);
  const float eps = f32(options_.eps());
  const bool maximize = options_.maximize();
  const std::int64_t dim = p.value.size(1);
  float* w = params_[index].value.data<float>();
  float* m = s.exp_avg.data<float>();
  float* v = s.exp_avg_sq.data<float>();
  const RowScalars k{neg_step_size, one_minus_beta1, one_minus_beta2, eps, maximize};
  return [&p, w, m, v, dim, k](std::int64_t row, const float* g) {
    if (detail::is_padding_row(p, row)) return;
    const std::int64_t base = row * dim;
    row_update(w + base, m + base, v + base, g, dim, k);
  };
}

std::vector<RowStateTable> SparseAdam::row_state_tables(std::size_t index) const {
  const State& s = state_[index];
  if (!s.exp_avg.defined()) return {};
  const std::int64_t row_bytes = s.exp_avg.size(1) * static_cast<std::int64_t>(sizeof(float));
  return {{s.exp_avg.raw_data(), row_bytes}, {s.exp_avg_sq.raw_data(), row_bytes}};
}

void SparseAdam::update_sparse(std::size_t index, const RowSparseTensor& grad) {
  // The update is not linear in the gradient: repeated rows are summed first.
  const RowSparseTensor c = detail::coalesce_like_torch(grad);
  const RowStep update = begin_row_step(index);
  const std::int64_t* rows = c.indices().data<std::int64_t>();
  const float* values = c.values().data<float>();
  for (std::int64_t k = 0; k < c.nnz(); ++k) update(rows[k], values + k * c.dim());
}

NamedTensors SparseAdam::state_dict() const {
  NamedTensors out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const State& s = state_[i];
    if (!s.exp_avg.defined()) continue;
    detail::append_entry(out, params_[i], "step", Tensor::scalar(s.step));
    detail::append_entry(out, params_[i], "exp_avg", s.exp_avg);
    detail::append_entry(out, params_[i], "exp_avg_sq", s.exp_avg_sq);
  }
  return out;
}

void SparseAdam::load_state_dict(const NamedTensors& state) {
  using Kind = detail::StateField::Kind;
  std::vector<std::vector<detail::StateField>> fields;
  for (const Parameter& p : params_) {
    fields.push_back({{"step", Kind::Step, {}},
                      {"exp_avg", Kind::Tensor, p.value.shape()},
                      {"exp_avg_sq", Kind::Tensor, p.value.shape()}});
  }
  auto loaded = detail::parse_state_dict("SparseAdam.load_state_dict", state, params_, fields);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    State s;
    if (!loaded[i].empty()) {
      s.step = loaded[i][0].data<std::int64_t>()[0];
      s.exp_avg = loaded[i][1];
      s.exp_avg_sq = loaded[i][2];
    }
    state_[i] = s;
  }
}

}  // namespace embedkit::optim
