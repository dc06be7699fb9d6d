#include "embedkit/optim/adagrad.hpp"

#include <cmath>

#include "embedkit/core/error.hpp"
#include "optim/check.hpp"
#include "optim/coalesce.hpp"
#include "optim/row_update_clones.hpp"
#include "optim/rows.hpp"
#include "optim/state_io.hpp"
#include "optim/torch_ops.hpp"

namespace embedkit::optim {

using detail::add_alpha;
using detail::f32;

namespace {

Tensor filled(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape);
  float* d = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) d[i] = value;
  return t;
}

// One row of the sparse step: torch.optim.Adagrad's sparse branch, element by element.
EMBEDKIT_ROW_UPDATE_CLONES
void sparse_row_update(float* w, float* sum, const float* g, std::int64_t dim, float neg_clr,
                       float eps, bool maximize) {
  for (std::int64_t j = 0; j < dim; ++j) {
    const float gj = maximize ? -g[j] : g[j];
    sum[j] = sum[j] + gj * gj;  // state_sum.add_(sparse(grad_values.pow(2)))
    const float denom = std::sqrt(sum[j]) + eps;
    w[j] = add_alpha(w[j], gj / denom, neg_clr);  // param.add_(sparse(g / std), alpha=-clr)
  }
}

}  // namespace

Adagrad::Adagrad(std::vector<Parameter> params, const AdagradOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  detail::check_non_negative(options.lr(), "learning rate");
  detail::check_non_negative(options.lr_decay(), "lr_decay value");
  detail::check_non_negative(options.weight_decay(), "weight_decay value");
  detail::check_non_negative(options.initial_accumulator_value(),
                             "initial_accumulator_value value");
  detail::check_non_negative(options.eps(), "epsilon value");
  steps_.assign(params_.size(), 0.0f);
  for (const Parameter& p : params_) {
    sums_.push_back(filled(p.value.shape(), f32(options.initial_accumulator_value())));
  }
}

std::string Adagrad::unsupported_grad_message(bool sparse) const {
  if (sparse) return "weight_decay option is not compatible with sparse gradients";
  return Optimizer::unsupported_grad_message(sparse);
}

double Adagrad::next_clr(std::size_t index) {
  steps_[index] += 1.0f;
  return clr(index);
}

double Adagrad::clr(std::size_t index) const {
  const double step = steps_[index];
  return options_.lr() / (1.0 + (step - 1.0) * options_.lr_decay());
}

float Adagrad::row_step_neg_clr(std::size_t index) const {
  return f32(-clr(index));
}

void Adagrad::update_dense(std::size_t index, const Tensor& grad) {
  const Parameter& p = params_[index];
  const float neg_clr = f32(-next_clr(index));
  float* w = params_[index].value.data<float>();
  float* sum = sums_[index].data<float>();
  const float* g = grad.data<float>();
  const float eps = f32(options_.eps());
  const float wd = f32(options_.weight_decay());
  const bool decay = options_.weight_decay() != 0.0;
  const bool maximize = options_.maximize();
  detail::for_each_unpadded_range(p, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      float gi = maximize ? -g[i] : g[i];
      if (decay) gi = add_alpha(gi, w[i], wd);
      sum[i] = detail::addcmul(sum[i], gi, gi, 1.0f);
      const float denom = std::sqrt(sum[i]) + eps;
      w[i] = detail::addcdiv(w[i], gi, denom, neg_clr);
    }
  });
}

RowStep Adagrad::begin_row_step(std::size_t index) {
  const Parameter& p = detail::row_step_parameter(params_, index, "Adagrad");
  detail::check_adagrad_row_wise(options_.weight_decay());
  const float neg_clr = f32(-next_clr(index));
  float* w = params_[index].value.data<float>();
  float* sum = sums_[index].data<float>();
  const std::int64_t dim = p.value.size(1);
  const float eps = f32(options_.eps());
  const bool maximize = options_.maximize();
  return [&p, w, sum, dim, neg_clr, eps, maximize](std::int64_t row, const float* g) {
    if (detail::is_padding_row(p, row)) return;
    sparse_row_update(w + row * dim, sum + row * dim, g, dim, neg_clr, eps, maximize);
  };
}

std::vector<RowStateTable> Adagrad::row_state_tables(std::size_t index) const {
  const Tensor& sum = sums_[index];
  if (!sum.defined()) return {};
  return {{sum.raw_data(), sum.size(1) * static_cast<std::int64_t>(sizeof(float))}};
}

void Adagrad::update_sparse(std::size_t index, const RowSparseTensor& grad) {
  // The update is not linear in the gradient: repeated rows are summed first.
  const RowSparseTensor c = detail::coalesce_like_torch(grad);
  const RowStep update = begin_row_step(index);
  const std::int64_t* rows = c.indices().data<std::int64_t>();
  const float* values = c.values().data<float>();
  for (std::int64_t k = 0; k < c.nnz(); ++k) update(rows[k], values + k * c.dim());
}

NamedTensors Adagrad::state_dict() const {
  NamedTensors out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    detail::append_entry(out, params_[i], "step", Tensor::scalar(steps_[i]));
    detail::append_entry(out, params_[i], "sum", sums_[i]);
  }
  return out;
}

void Adagrad::load_state_dict(const NamedTensors& state) {
  using Kind = detail::StateField::Kind;
  std::vector<std::vector<detail::StateField>> fields;
  for (const Parameter& p : params_) {
    fields.push_back({{"step", Kind::Step, {}}, {"sum", Kind::Tensor, p.value.shape()}});
  }
  auto loaded = detail::parse_state_dict("Adagrad.load_state_dict", state, params_, fields);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (loaded[i].empty()) {
      steps_[i] = 0.0f;
      sums_[i] = filled(params_[i].value.shape(), f32(options_.initial_accumulator_value()));
    } else {
      steps_[i] = static_cast<float>(loaded[i][0].data<std::int64_t>()[0]);
      sums_[i] = loaded[i][1];
    }
  }
}

}  // namespace embedkit::optim
