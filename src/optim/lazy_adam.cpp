#include "embedkit/optim/lazy_adam.hpp"

#include "embedkit/core/error.hpp"
#include "optim/adam_update.hpp"
#include "optim/check.hpp"
#include "optim/coalesce.hpp"
#include "optim/row_update_clones.hpp"
#include "optim/rows.hpp"
#include "optim/state_io.hpp"

namespace embedkit::optim {

LazyAdam::LazyAdam(std::vector<Parameter> params, const LazyAdamOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  detail::check_non_negative(options.lr(), "learning rate");
  detail::check_non_negative(options.eps(), "epsilon value");
  detail::check_beta(std::get<0>(options.betas()), 0);
  detail::check_beta(std::get<1>(options.betas()), 1);
  for (const Parameter& p : params_) {
    if (p.value.dim() != 2) {
      throw ValueError("LazyAdam: parameter '" + p.name +
                       "' must be 2-D (one step count per row), got shape " +
                       shape_string(p.value.shape()));
    }
  }
  state_.resize(params_.size());
}

namespace {

// One row of the Adam update (the elements of adam_update.hpp).
EMBEDKIT_ROW_UPDATE_CLONES
void adam_row(float* w, float* m, float* v, const float* g, std::int64_t dim,
              const detail::AdamScalars& k, bool maximize) {
  for (std::int64_t j = 0; j < dim; ++j) {
    detail::adam_element(w[j], m[j], v[j], nullptr, maximize ? -g[j] : g[j], k);
  }
}

}  // namespace

void LazyAdam::update_row(std::size_t index, std::int64_t row, const float* g) {
  State& s = state_[index];
  const std::int64_t dim = params_[index].value.size(1);
  std::int64_t& step = s.step.data<std::int64_t>()[row];
  step += 1;
  const auto k = detail::AdamScalars::make(options_.lr(), options_.betas(), options_.eps(),
                                           static_cast<double>(step));
  const std::int64_t base = row * dim;
  float* w = params_[index].value.data<float>() + base;
  float* m = s.exp_avg.data<float>() + base;
  float* v = s.exp_avg_sq.data<float>() + base;
  adam_row(w, m, v, g, dim, k, options_.maximize());
}

namespace {

void init_state(Tensor& step, Tensor& exp_avg, Tensor& exp_avg_sq, const Shape& shape) {
  if (step.defined()) return;
  step = Tensor::zeros({shape[0]}, DType::Int64);
  exp_avg = Tensor::zeros(shape);
  exp_avg_sq = Tensor::zeros(shape);
}

}  // namespace

void LazyAdam::update_dense(std::size_t index, const Tensor& grad) {
  const Parameter& p = params_[index];
  State& s = state_[index];
  init_state(s.step, s.exp_avg, s.exp_avg_sq, p.value.shape());
  const float* g = grad.data<float>();
  const std::int64_t dim = p.value.size(1);
  // A dense gradient touches every row, zero rows included: that is what makes LazyAdam on
  // dense gradients equal Adam.
  detail::for_each_unpadded_row(p, [&](std::int64_t r) { update_row(index, r, g + r * dim); });
}

std::vector<RowStateTable> LazyAdam::row_state_tables(std::size_t index) const {
  const State& s = state_[index];
  if (!s.exp_avg.defined()) return {};
  const std::int64_t row_bytes = s.exp_avg.size(1) * static_cast<std::int64_t>(sizeof(float));
  return {{s.exp_avg.raw_data(), row_bytes},
          {s.exp_avg_sq.raw_data(), row_bytes},
          {s.step.raw_data(), static_cast<std::int64_t>(sizeof(std::int64_t))}};
}

void LazyAdam::update_sparse(std::size_t index, const RowSparseTensor& grad) {
  const Parameter& p = params_[index];
  State& s = state_[index];
  init_state(s.step, s.exp_avg, s.exp_avg_sq, p.value.shape());
  const RowSparseTensor c =
      detail::coalesce_like_torch(grad);  // the update is not linear in the gradient
  const std::int64_t* rows = c.indices().data<std::int64_t>();
  const float* values = c.values().data<float>();
  for (std::int64_t k = 0; k < c.nnz(); ++k) {
    if (!detail::is_padding_row(p, rows[k])) update_row(index, rows[k], values + k * c.dim());
  }
}

RowStep LazyAdam::begin_row_step(std::size_t index) {
  const Parameter& p = detail::row_step_parameter(params_, index, "LazyAdam");
  State& s = state_[index];
  init_state(s.step, s.exp_avg, s.exp_avg_sq, p.value.shape());
  return [this, &p, index](std::int64_t row, const float* g) {
    if (!detail::is_padding_row(p, row)) update_row(index, row, g);
  };
}

NamedTensors LazyAdam::state_dict() const {
  NamedTensors out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const State& s = state_[i];
    if (!s.step.defined()) continue;
    detail::append_entry(out, params_[i], "step", s.step);
    detail::append_entry(out, params_[i], "exp_avg", s.exp_avg);
    detail::append_entry(out, params_[i], "exp_avg_sq", s.exp_avg_sq);
  }
  return out;
}

void LazyAdam::load_state_dict(const NamedTensors& state) {
  using Kind = detail::StateField::Kind;
  std::vector<std::vector<detail::StateField>> fields;
  for (const Parameter& p : params_) {
    fields.push_back({{"step", Kind::RowSteps, {p.value.size(0)}},
                      {"exp_avg", Kind::Tensor, p.value.shape()},
                      {"exp_avg_sq", Kind::Tensor, p.value.shape()}});
  }
  auto loaded = detail::parse_state_dict("LazyAdam.load_state_dict", state, params_, fields);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    State s;
    if (!loaded[i].empty()) s = {loaded[i][0], loaded[i][1], loaded[i][2]};
    state_[i] = s;
  }
}

}  // namespace embedkit::optim
