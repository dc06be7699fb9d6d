#include "embedkit/optim/rowwise_adagrad.hpp"

#include <cmath>

#include "embedkit/core/error.hpp"
#include "optim/check.hpp"
#include "optim/coalesce.hpp"
#include "optim/rows.hpp"
#include "optim/state_io.hpp"
#include "optim/torch_ops.hpp"

namespace embedkit::optim {

using detail::f32;

RowWiseAdagrad::RowWiseAdagrad(std::vector<Parameter> params, const RowWiseAdagradOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  detail::check_non_negative(options.lr(), "learning rate");
  detail::check_non_negative(options.eps(), "epsilon value");
  detail::check_non_negative(options.weight_decay(), "weight_decay value");
  for (const Parameter& p : params_) {
    if (p.value.dim() != 2) {
      throw ValueError("RowWiseAdagrad: parameter '" + p.name +
                       "' must be 2-D (one accumulator per row), got shape " +
                       shape_string(p.value.shape()));
    }
    sums_.push_back(Tensor::zeros({p.value.size(0)}));
  }
}

void RowWiseAdagrad::update_row(std::size_t index, std::int64_t row, const float* g) {
  const std::int64_t dim = params_[index].value.size(1);
  float* w = params_[index].value.data<float>() + row * dim;
  float& sum = sums_[index].data<float>()[row];
  // FBGEMM keeps lr, eps and weight_decay as float.
  const float lr = f32(options_.lr());
  const float eps = f32(options_.eps());
  const float wd = f32(options_.weight_decay());
  const bool decay = options_.weight_decay() != 0.0;
  const bool l2 = decay && options_.weight_decay_mode() == WeightDecayMode::L2;

  // The squares go into 8 interleaved partial sums (element j into partial[j % 8]), added
  // pairwise at the end: 8 independent chains of additions that the compiler can also
  // vectorise, where one running sum was a chain of dim dependent additions (at D = 128 it made
  // this step slower than full Adagrad's, which reads 128x more state). The order is fixed, so
  // the sum is the same on every CPU and at any thread count. (FBGEMM sums in vector lanes too.)
  constexpr std::int64_t kLanes = 8;
  float partial[kLanes] = {};
  std::int64_t k = 0;
  for (; k + kLanes <= dim; k += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) {
      const float gk = l2 ? g[k + l] + wd * w[k + l] : g[k + l];
      partial[l] += gk * gk;
    }
  }
  for (; k < dim; ++k) {
    const float gk = l2 ? g[k] + wd * w[k] : g[k];
    partial[k % kLanes] += gk * gk;
  }
  const float square_sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                           ((partial[4] + partial[5]) + (partial[6] + partial[7]));
  // An empty row (dim 0) has no squares to average: 0, not 0/0.
  const float mean = dim == 0 ? 0.0f : square_sum / static_cast<float>(dim);
  sum += mean;
  const float multiplier = lr / (std::sqrt(sum) + eps);
  // FBGEMM computes the correction as 1.0 (double) minus a float product, stored as float.
  float correction = 1.0f;
  if (decay) correction = f32(1.0 - static_cast<double>(l2 ? multiplier * wd : lr * wd));
  for (std::int64_t j = 0; j < dim; ++j) w[j] = correction * w[j] - g[j] * multiplier;
}

void RowWiseAdagrad::update_dense(std::size_t index, const Tensor& grad) {
  const Parameter& p = params_[index];
  const float* g = grad.data<float>();
  const std::int64_t dim = p.value.size(1);
  detail::for_each_unpadded_row(p, [&](std::int64_t r) { update_row(index, r, g + r * dim); });
}

void RowWiseAdagrad::update_sparse(std::size_t index, const RowSparseTensor& grad) {
  const Parameter& p = params_[index];
  const RowSparseTensor c =
      detail::coalesce_like_torch(grad);  // FBGEMM sums a row's gradients before its update
  const std::int64_t* rows = c.indices().data<std::int64_t>();
  const float* values = c.values().data<float>();
  for (std::int64_t k = 0; k < c.nnz(); ++k) {
    if (!detail::is_padding_row(p, rows[k])) update_row(index, rows[k], values + k * c.dim());
  }
}

RowStep RowWiseAdagrad::begin_row_step(std::size_t index) {
  const Parameter& p = detail::row_step_parameter(params_, index, "RowWiseAdagrad");
  return [this, &p, index](std::int64_t row, const float* g) {
    if (!detail::is_padding_row(p, row)) update_row(index, row, g);
  };
}

std::vector<RowStateTable> RowWiseAdagrad::row_state_tables(std::size_t index) const {
  // One float of state per row.
  return {{sums_[index].raw_data(), static_cast<std::int64_t>(sizeof(float))}};
}

NamedTensors RowWiseAdagrad::state_dict() const {
  NamedTensors out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    detail::append_entry(out, params_[i], "sum", sums_[i]);
  }
  return out;
}

void RowWiseAdagrad::load_state_dict(const NamedTensors& state) {
  using Kind = detail::StateField::Kind;
  std::vector<std::vector<detail::StateField>> fields;
  for (const Parameter& p : params_) fields.push_back({{"sum", Kind::Tensor, {p.value.size(0)}}});
  auto loaded = detail::parse_state_dict("RowWiseAdagrad.load_state_dict", state, params_, fields);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    sums_[i] = loaded[i].empty() ? Tensor::zeros({params_[i].value.size(0)}) : loaded[i][0];
  }
}

}  // namespace embedkit::optim
