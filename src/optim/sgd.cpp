#include "embedkit/optim/sgd.hpp"

#include "embedkit/core/error.hpp"
#include "kernels/cpu/add_scaled.hpp"
#include "optim/check.hpp"
#include "optim/coalesce.hpp"
#include "optim/rows.hpp"
#include "optim/state_io.hpp"
#include "optim/torch_ops.hpp"

namespace embedkit::optim {

using detail::add_alpha;
using detail::f32;

SGD::SGD(std::vector<Parameter> params, const SGDOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  detail::check_non_negative(options.lr(), "learning rate");
  detail::check_non_negative(options.momentum(), "momentum value");
  detail::check_non_negative(options.weight_decay(), "weight_decay value");
  if (options.nesterov() && (options.momentum() <= 0.0 || options.dampening() != 0.0)) {
    throw ValueError("Nesterov momentum requires a momentum and zero dampening");
  }
  momentum_buffers_.resize(params_.size());
}

std::string SGD::unsupported_grad_message(bool sparse) const {
  // PyTorch fails inside the update with "add(sparse, dense) is not supported. Use add(dense,
  // sparse) instead."; this says why.
  if (sparse) return "SGD: weight_decay option is not compatible with sparse gradients";
  return Optimizer::unsupported_grad_message(sparse);
}

void SGD::update_dense(std::size_t index, const Tensor& grad) {
  if (options_.momentum() != 0.0) return momentum_step(index, grad);
  const Parameter& p = params_[index];
  float* w = params_[index].value.data<float>();
  const float* g = grad.data<float>();
  const float neg_lr = f32(-options_.lr());
  const float wd = f32(options_.weight_decay());
  const bool decay = options_.weight_decay() != 0.0;
  const bool maximize = options_.maximize();
  detail::for_each_unpadded_range(p, [&](std::int64_t begin, std::int64_t end) {
    if (!decay && !maximize) {
      // w = fma(-lr, g, w) per element (add_alpha), vectorised by the CPU kernels.
      kernels::cpu::add_scaled(neg_lr, g + begin, end - begin, w + begin);
      return;
    }
    for (std::int64_t i = begin; i < end; ++i) {
      float d = maximize ? -g[i] : g[i];
      if (decay) d = add_alpha(d, w[i], wd);
      w[i] = add_alpha(w[i], d, neg_lr);
    }
  });
}

void SGD::momentum_step(std::size_t index, const Tensor& grad) {
  const Parameter& p = params_[index];
  float* w = params_[index].value.data<float>();
  const float* g = grad.data<float>();
  Tensor& buffer = momentum_buffers_[index];
  const bool first = !buffer.defined();
  // Zeros, so that the padding row, never written, holds what PyTorch's would for a zero grad.
  if (first) buffer = Tensor::zeros(p.value.shape());
  float* buf = buffer.data<float>();
  const float neg_lr = f32(-options_.lr());
  const float wd = f32(options_.weight_decay());
  const bool decay = options_.weight_decay() != 0.0;
  const float momentum = f32(options_.momentum());
  const float one_minus_dampening = f32(1.0 - options_.dampening());
  const bool nesterov = options_.nesterov();
  const bool maximize = options_.maximize();
  detail::for_each_unpadded_range(p, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      float d = maximize ? -g[i] : g[i];
      if (decay) d = add_alpha(d, w[i], wd);
      // buf.mul_(momentum).add_(d_p, alpha=1 - dampening); the first step clones d_p.
      buf[i] = first ? d : add_alpha(buf[i] * momentum, d, one_minus_dampening);
      d = nesterov ? add_alpha(d, buf[i], momentum) : buf[i];
      w[i] = add_alpha(w[i], d, neg_lr);
    }
  });
}

void SGD::update_sparse(std::size_t index, const RowSparseTensor& grad) {
  if (options_.momentum() != 0.0) {
    // The dense buffer takes the gradient with repeated rows summed; PyTorch's sparse buffer
    // keeps the entries apart and they are summed into the parameter one by one.
    return momentum_step(index, detail::coalesce_like_torch(grad).to_dense());
  }
  const Parameter& p = params_[index];
  float* w = params_[index].value.data<float>();
  const std::int64_t dim = grad.dim();
  const std::int64_t* rows = grad.indices().data<std::int64_t>();
  const float* values = grad.values().data<float>();
  const float neg_lr = f32(-options_.lr());
  const bool maximize = options_.maximize();
  // param.add_(sparse, alpha=-lr) adds the entries one after another, repeats included.
  for (std::int64_t k = 0; k < grad.nnz(); ++k) {
    if (detail::is_padding_row(p, rows[k])) continue;
    float* wr = w + rows[k] * dim;
    const float* gk = values + k * dim;
    for (std::int64_t j = 0; j < dim; ++j) {
      wr[j] = add_alpha(wr[j], maximize ? -gk[j] : gk[j], neg_lr);
    }
  }
}

RowStep SGD::begin_row_step(std::size_t index) {
  const Parameter& p = detail::row_step_parameter(params_, index, "SGD");
  detail::check_sgd_row_wise(options_.momentum(), options_.weight_decay());
  float* w = params_[index].value.data<float>();
  const std::int64_t dim = p.value.size(1);
  const float neg_lr = f32(-options_.lr());
  const bool maximize = options_.maximize();
  return [&p, w, dim, neg_lr, maximize](std::int64_t row, const float* g) {
    if (detail::is_padding_row(p, row)) return;
    float* wr = w + row * dim;
    if (!maximize) {
      // w = fma(-lr, g, w) per element (add_alpha), vectorised by the CPU kernels.
      kernels::cpu::add_scaled(neg_lr, g, dim, wr);
      return;
    }
    for (std::int64_t j = 0; j < dim; ++j) wr[j] = add_alpha(wr[j], -g[j], neg_lr);
  };
}

NamedTensors SGD::state_dict() const {
  NamedTensors out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (momentum_buffers_[i].defined()) {
      detail::append_entry(out, params_[i], "momentum_buffer", momentum_buffers_[i]);
    }
  }
  return out;
}

void SGD::load_state_dict(const NamedTensors& state) {
  std::vector<std::vector<detail::StateField>> fields(params_.size());
  // Without momentum SGD has no state, and a buffer in the checkpoint is unexpected.
  if (options_.momentum() != 0.0) {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      fields[i] = {{"momentum_buffer", detail::StateField::Kind::Tensor, params_[i].value.shape()}};
    }
  }
  auto loaded = detail::parse_state_dict("SGD.load_state_dict", state, params_, fields);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    momentum_buffers_[i] = loaded[i].empty() ? Tensor() : loaded[i][0];
  }
}

}  // namespace embedkit::optim
