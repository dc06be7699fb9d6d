// Host side of the CUDA embedding ops: the checks every backend shares (nn/embedding_checks.hpp,
// in nn::functional's and optim's order), the device's own limits, the validation of ids and
// offsets on the device, then the kernels (kernels.cu).
#include "embedkit/cuda/embedding.hpp"

#include <cmath>
#include <limits>

#include "cuda/launch.hpp"
#include "nn/embedding_checks.hpp"
#include "optim/check.hpp"

namespace embedkit::cuda {

namespace {

using detail::Flags;
constexpr unsigned long long kNone = ~0ULL;
// Positions are sorted as int32 and bags indexed as int32.
constexpr std::int64_t kMaxIds = std::numeric_limits<std::int32_t>::max();
// RowWiseAdagrad keeps a row's gradient in 48 KiB of shared memory.
constexpr std::int64_t kMaxRowWiseDim = 49152 / 4;

Flags* flags_buffer() {
  thread_local DeviceBuffer buffer(sizeof(Flags));
  return static_cast<Flags*>(buffer.data());
}

void check_unknown_ids(const nn::UnknownIds& policy, const std::string& who) {
  if (!policy.is_error()) {
    throw ValueError(who + ": only UnknownIds::error() is supported on the CUDA device");
  }
}

// The lookup's argument checks in the CPU's order (nn/embedding.cpp, checked_rows: table,
// padding_idx, max_norm, the option combination, the unknown-ids policy, then the ids), all
// before the device is touched: the same bad input fails with the same first message on both
// backends.
void check_embedding_arguments(const DeviceTensor& ids, const DeviceTensor& weight,
                               const nn::EmbeddingFuncOptions& options, const std::string& who) {
  nn::detail::check_table(weight.desc(), who);
  nn::detail::normalize_padding_idx(options.padding_idx(), weight.size(0), who);
  nn::detail::check_max_norm(options.max_norm(), options.norm_type(), who);
  nn::detail::check_sparse_options(options.sparse(), options.scale_grad_by_freq(), who);
  check_unknown_ids(options.unknown_ids(), who);
  nn::detail::check_ids_dtype(ids.desc(), "ids");
}

void check_count(std::int64_t n, const std::string& who) {
  if (n > kMaxIds) {
    throw ValueError(who + ": at most " + std::to_string(kMaxIds) + " ids per call, got " +
                     std::to_string(n));
  }
}

std::int64_t read_index(const void* base, DType dtype, std::int64_t pos) {
  if (dtype == DType::Int32) {
    std::int32_t v = 0;
    detail::copy_to_host(&v, static_cast<const std::int32_t*>(base) + pos, sizeof v);
    return v;
  }
  std::int64_t v = 0;
  detail::copy_to_host(&v, static_cast<const std::int64_t*>(base) + pos, sizeof v);
  return v;
}

// The IndexError resolve_ids raises, for the first bad position the device's scan found.
IndexError bad_id_error(const DeviceTensor& ids, unsigned long long first_bad_id,
                        std::int64_t num_rows) {
  const auto pos = static_cast<std::int64_t>(first_bad_id);
  return IndexError("ids", pos, read_index(ids.raw_data(), ids.dtype(), pos), 0, num_rows);
}

// The ids' check on the device: IndexError naming the first bad position, as resolve_ids.
void validate_ids(const DeviceTensor& ids, std::int64_t num_rows) {
  if (ids.numel() == 0) return;
  Flags* flags = flags_buffer();
  detail::reset_flags(flags);
  detail::check_ids(ids.raw_data(), ids.dtype(), ids.numel(), num_rows, flags);
  const Flags f = detail::read_flags(flags);
  if (f.first_bad_id != kNone) throw bad_id_error(ids, f.first_bad_id, num_rows);
}

Shape output_shape(const DeviceTensor& ids, std::int64_t dim) {
  Shape s = ids.shape();
  s.push_back(dim);
  return s;
}

// nn::detail::prepare_bags on the device: the shared checks in the same order, the offsets and
// ids validated by kernels, the bags as bounds (int64, num_bags + 1).
struct DeviceBags {
  DeviceTensor bounds;
  std::int64_t num_bags = 0;
  const void* psw = nullptr;
  std::int64_t padding = -1;
};

DeviceBags prepare_bags(const DeviceTensor& ids, const DeviceTensor& offsets,
                        const DeviceTensor& per_sample_weights, TensorDesc weight,
                        const nn::EmbeddingBagFuncOptions& options, const std::string& who) {
  DeviceBags bags;
  bags.padding = nn::detail::check_bag_arguments(weight, ids.desc(), options, who);
  const std::int64_t num_rows = weight.size(0);
  check_unknown_ids(options.unknown_ids(), who);

  const std::int64_t n = ids.numel();
  check_count(n, who);
  const bool cut_by_offsets = nn::detail::check_bag_layout(ids.desc(), offsets.desc(), who) ==
                              nn::detail::BagLayout::Offsets;
  const std::int64_t count = cut_by_offsets ? offsets.numel() : 0;
  Flags* flags = flags_buffer();
  detail::reset_flags(flags);
  if (cut_by_offsets) detail::check_offsets(offsets.raw_data(), offsets.dtype(), count, n, flags);
  detail::check_ids(ids.raw_data(), ids.dtype(), n, num_rows, flags);
  const Flags f = detail::read_flags(flags);  // one wait for both checks

  if (cut_by_offsets) {
    if (f.first_bad_offset != kNone) {
      const auto b = static_cast<std::int64_t>(f.first_bad_offset);
      const std::int64_t value = read_index(offsets.raw_data(), offsets.dtype(), b);
      const std::int64_t previous =
          b > 0 ? read_index(offsets.raw_data(), offsets.dtype(), b - 1) : 0;
      throw nn::detail::bad_offset_error(b, value, previous, n, who);
    }
    const bool include_last = options.include_last_offset();
    // The last offset is read (a copy from the device) only where the check needs it.
    const std::int64_t last =
        include_last && count > 0 ? read_index(offsets.raw_data(), offsets.dtype(), count - 1) : 0;
    bags.num_bags = nn::detail::offsets_bag_count(count, last, n, include_last, who);
  } else {
    bags.num_bags = ids.size(0);
  }
  nn::detail::check_per_sample_weights(per_sample_weights.desc(), ids.desc(), options.mode(),
                                       weight.dtype(), who);
  if (per_sample_weights.defined()) bags.psw = per_sample_weights.raw_data();
  if (f.first_bad_id != kNone) throw bad_id_error(ids, f.first_bad_id, num_rows);
  check_count(bags.num_bags, who);
  bags.bounds = DeviceTensor::empty({bags.num_bags + 1}, DType::Int64);
  auto* bounds = static_cast<std::int64_t*>(bags.bounds.raw_data());
  if (cut_by_offsets) {
    detail::offsets_to_bounds(offsets.raw_data(), offsets.dtype(), count,
                              options.include_last_offset(), n, bounds);
  } else {
    detail::uniform_bounds(bags.num_bags, ids.size(1), bounds);
  }
  return bags;
}

void renorm_referenced(DeviceTensor& weight, const DeviceTensor& ids, double max_norm,
                       double norm_type) {
  const detail::Grouping g =
      detail::group_by_row(ids.raw_data(), ids.dtype(), ids.numel(), weight.size(0), -1);
  detail::renorm(weight.raw_data(), weight.dtype(), weight.size(1), g, max_norm, norm_type);
}

void check_out(const DeviceTensor& out, const Shape& shape, DType dtype, const std::string& who) {
  if (!out.defined() || out.shape() != shape || out.dtype() != dtype) {
    throw ValueError(who + ": out must be a " + std::string(dtype_name(dtype)) +
                     " device tensor of shape " + shape_string(shape));
  }
}

// Bag index of every position and the bags' sizes without padding (for gradients).
struct BagTerms {
  DeviceTensor bag_of;
  DeviceTensor bag_size;
  detail::BagIndex index;
};

BagTerms index_bags(const DeviceTensor& ids, const DeviceBags& bags, nn::BagMode mode) {
  BagTerms t;
  t.bag_of = DeviceTensor::empty({ids.numel()}, DType::Int32);
  t.bag_size = DeviceTensor::empty({bags.num_bags}, DType::Int64);
  detail::index_bags(ids.raw_data(), ids.dtype(),
                     static_cast<const std::int64_t*>(bags.bounds.raw_data()), bags.num_bags,
                     bags.padding, static_cast<std::int32_t*>(t.bag_of.raw_data()),
                     static_cast<std::int64_t*>(t.bag_size.raw_data()));
  t.index.bag_of = static_cast<std::int32_t*>(t.bag_of.raw_data());
  t.index.bag_size = static_cast<std::int64_t*>(t.bag_size.raw_data());
  t.index.bounds = static_cast<const std::int64_t*>(bags.bounds.raw_data());
  t.index.psw = static_cast<const float*>(bags.psw);
  t.index.mode = mode;
  return t;
}

DeviceRowGrad rows_of(const detail::Grouping& g, const detail::GradSource& src, std::int64_t dim) {
  const std::int64_t runs = detail::read_num_runs(g);
  DeviceRowGrad out;
  out.rows = DeviceTensor::empty({runs}, DType::Int64);
  out.values = DeviceTensor::empty({runs, dim}, DType::Float32);
  detail::segment_sum(g, src, dim, static_cast<std::int64_t*>(out.rows.raw_data()),
                      static_cast<float*>(out.values.raw_data()));
  return out;
}

void check_fused_table(const DeviceTensor& weight, const DeviceOptimizer& opt,
                       const std::string& who) {
  if (!weight.defined() || weight.dtype() != DType::Float32 ||
      weight.shape() != Shape{opt.num_rows(), opt.dim()}) {
    throw ValueError(who + ": the table must be float32 with the optimizer's shape [" +
                     std::to_string(opt.num_rows()) + ", " + std::to_string(opt.dim()) + "]");
  }
  if (opt.kind() == DeviceOptimizer::Kind::RowWiseAdagrad && opt.dim() > kMaxRowWiseDim) {
    throw ValueError(who + ": RowWiseAdagrad on the device supports rows of at most " +
                     std::to_string(kMaxRowWiseDim) + " columns");
  }
}

// The lookup once its arguments and `out` are checked: the ids' values (on the device), max_norm,
// then the gather. embedding() and embedding_into() share it, so neither checks twice.
void checked_lookup(const DeviceTensor& ids, DeviceTensor& weight, DeviceTensor& out,
                    const nn::EmbeddingFuncOptions& options, const std::string& who) {
  if (options.max_norm()) check_count(ids.numel(), who);
  validate_ids(ids, weight.size(0));
  if (options.max_norm()) {
    renorm_referenced(weight, ids, *options.max_norm(), options.norm_type());
  }
  const std::size_t row_bytes =
      static_cast<std::size_t>(weight.size(1)) * dtype_size(weight.dtype());
  detail::gather(weight.raw_data(), row_bytes, ids.raw_data(), ids.dtype(), ids.numel(),
                 out.raw_data());
}

}  // namespace

void embedding_into(const DeviceTensor& ids, DeviceTensor& weight, DeviceTensor& out,
                    const nn::EmbeddingFuncOptions& options) {
  const std::string who = "cuda::embedding";
  check_embedding_arguments(ids, weight, options, who);
  check_out(out, output_shape(ids, weight.size(1)), weight.dtype(), who);
  checked_lookup(ids, weight, out, options, who);
}

DeviceTensor embedding(const DeviceTensor& ids, DeviceTensor& weight,
                       const nn::EmbeddingFuncOptions& options) {
  const std::string who = "cuda::embedding";
  check_embedding_arguments(ids, weight, options, who);
  DeviceTensor out = DeviceTensor::empty(output_shape(ids, weight.size(1)), weight.dtype());
  checked_lookup(ids, weight, out, options, who);
  return out;
}

void embedding_bag_into(const DeviceTensor& ids, DeviceTensor& weight, const DeviceTensor& offsets,
                        DeviceTensor& out, const nn::EmbeddingBagFuncOptions& options,
                        const DeviceTensor& per_sample_weights) {
  const std::string who = "cuda::embedding_bag";
  const DeviceBags bags =
      prepare_bags(ids, offsets, per_sample_weights, weight.desc(), options, who);
  check_out(out, {bags.num_bags, weight.size(1)}, weight.dtype(), who);
  if (options.max_norm()) {
    // Like PyTorch, every referenced row is renormalised, padding ids included.
    renorm_referenced(weight, ids, *options.max_norm(), options.norm_type());
  }
  detail::bag_forward(weight.raw_data(), weight.dtype(), weight.size(1), ids.raw_data(),
                      ids.dtype(), static_cast<const std::int64_t*>(bags.bounds.raw_data()),
                      bags.num_bags, options.mode(), bags.psw, bags.padding, out.raw_data());
}

DeviceTensor embedding_bag(const DeviceTensor& ids, DeviceTensor& weight,
                           const DeviceTensor& offsets, const nn::EmbeddingBagFuncOptions& options,
                           const DeviceTensor& per_sample_weights) {
  const std::string who = "cuda::embedding_bag";
  const DeviceBags bags =
      prepare_bags(ids, offsets, per_sample_weights, weight.desc(), options, who);
  DeviceTensor out = DeviceTensor::empty({bags.num_bags, weight.size(1)}, weight.dtype());
  if (options.max_norm()) {
    renorm_referenced(weight, ids, *options.max_norm(), options.norm_type());
  }
  detail::bag_forward(weight.raw_data(), weight.dtype(), weight.size(1), ids.raw_data(),
                      ids.dtype(), static_cast<const std::int64_t*>(bags.bounds.raw_data()),
                      bags.num_bags, options.mode(), bags.psw, bags.padding, out.raw_data());
  return out;
}

DeviceRowGrad embedding_backward_rows(const DeviceTensor& ids, const DeviceTensor& grad_output,
                                      std::int64_t num_embeddings,
                                      const nn::EmbeddingFuncOptions& options) {
  const std::string who = "cuda::embedding_backward";
  nn::detail::check_num_embeddings(num_embeddings, who);
  nn::detail::check_ids_dtype(ids.desc(), "ids");
  if (!grad_output.defined() || grad_output.dtype() != DType::Float32 ||
      grad_output.dim() != ids.dim() + 1) {
    throw ValueError(who + ": grad_output must be float32 with shape ids.shape + [embedding_dim]");
  }
  const std::int64_t dim = grad_output.size(-1);
  nn::detail::check_float32_grad_output(grad_output.desc(), output_shape(ids, dim), who);
  const std::int64_t padding =
      nn::detail::normalize_padding_idx(options.padding_idx(), num_embeddings, who);
  nn::detail::check_sparse_options(options.sparse(), options.scale_grad_by_freq(), who);
  check_unknown_ids(options.unknown_ids(), who);
  check_count(ids.numel(), who);
  validate_ids(ids, num_embeddings);
  const detail::Grouping g =
      detail::group_by_row(ids.raw_data(), ids.dtype(), ids.numel(), num_embeddings, padding);
  detail::GradSource src;
  src.grad = static_cast<const float*>(grad_output.raw_data());
  src.scale_grad_by_freq = options.scale_grad_by_freq();
  return rows_of(g, src, dim);
}

DeviceRowGrad embedding_bag_backward_rows(const DeviceTensor& ids, const DeviceTensor& offsets,
                                          const DeviceTensor& grad_output,
                                          std::int64_t num_embeddings,
                                          const nn::EmbeddingBagFuncOptions& options,
                                          const DeviceTensor& per_sample_weights) {
  const std::string who = "cuda::embedding_bag_backward";
  if (options.mode() == nn::BagMode::Max) {
    throw ValueError(who + ": max mode's gradient is per column, not per row");
  }
  if (!grad_output.defined() || grad_output.dim() != 2) {
    throw ValueError(who + ": grad_output must be a 2-D float32 device tensor");
  }
  const std::int64_t dim = grad_output.size(1);
  nn::detail::check_num_embeddings(num_embeddings, who);
  // prepare_bags checks ids against a table; no table is read here, so the description of a
  // float32 table with num_embeddings rows (and no columns) stands for it.
  const Shape table_shape{num_embeddings, 0};
  const DeviceBags bags = prepare_bags(ids, offsets, per_sample_weights,
                                       TensorDesc(DType::Float32, table_shape), options, who);
  if (per_sample_weights.defined() && per_sample_weights.dtype() != DType::Float32) {
    throw TypeError(who + ": per_sample_weights must be float32");
  }
  nn::detail::check_float32_grad_output(grad_output.desc(), {bags.num_bags, dim}, who);
  const BagTerms terms = index_bags(ids, bags, options.mode());
  const detail::Grouping g =
      detail::group_by_row(ids.raw_data(), ids.dtype(), ids.numel(), num_embeddings, bags.padding);
  detail::GradSource src;
  src.grad = static_cast<const float*>(grad_output.raw_data());
  src.bags = &terms.index;
  src.scale_grad_by_freq = options.scale_grad_by_freq();
  return rows_of(g, src, dim);
}

// ---- DeviceOptimizer -----------------------------------------------------------------------

DeviceOptimizer DeviceOptimizer::sgd(const optim::SGDOptions& options, std::int64_t num_rows,
                                     std::int64_t dim) {
  optim::detail::check_non_negative(options.lr(), "learning rate");
  optim::detail::check_non_negative(options.momentum(), "momentum value");
  optim::detail::check_non_negative(options.weight_decay(), "weight_decay value");
  optim::detail::check_sgd_row_wise(options.momentum(), options.weight_decay());
  DeviceOptimizer o;
  o.kind_ = Kind::SGD;
  o.num_rows_ = num_rows;
  o.dim_ = dim;
  o.sgd_ = options;
  return o;
}

DeviceOptimizer DeviceOptimizer::adagrad(const optim::AdagradOptions& options,
                                         std::int64_t num_rows, std::int64_t dim) {
  optim::detail::check_non_negative(options.lr(), "learning rate");
  optim::detail::check_non_negative(options.lr_decay(), "lr_decay value");
  optim::detail::check_non_negative(options.weight_decay(), "weight_decay value");
  optim::detail::check_non_negative(options.initial_accumulator_value(),
                                    "initial_accumulator_value value");
  optim::detail::check_non_negative(options.eps(), "epsilon value");
  optim::detail::check_adagrad_row_wise(options.weight_decay());
  DeviceOptimizer o;
  o.kind_ = Kind::Adagrad;
  o.num_rows_ = num_rows;
  o.dim_ = dim;
  o.adagrad_ = options;
  o.state0_ = DeviceTensor::empty({num_rows, dim});
  detail::fill(static_cast<float*>(o.state0_.raw_data()), o.state0_.numel(),
               static_cast<float>(options.initial_accumulator_value()));
  return o;
}

DeviceOptimizer DeviceOptimizer::rowwise_adagrad(const optim::RowWiseAdagradOptions& options,
                                                 std::int64_t num_rows, std::int64_t dim) {
  optim::detail::check_non_negative(options.lr(), "learning rate");
  optim::detail::check_non_negative(options.eps(), "epsilon value");
  optim::detail::check_non_negative(options.weight_decay(), "weight_decay value");
  DeviceOptimizer o;
  o.kind_ = Kind::RowWiseAdagrad;
  o.num_rows_ = num_rows;
  o.dim_ = dim;
  o.rowwise_ = options;
  o.state0_ = DeviceTensor::zeros({num_rows});
  return o;
}

DeviceOptimizer DeviceOptimizer::sparse_adam(const optim::SparseAdamOptions& options,
                                             std::int64_t num_rows, std::int64_t dim) {
  optim::detail::check_positive(options.lr(), "learning rate");
  optim::detail::check_positive(options.eps(), "epsilon value");
  optim::detail::check_beta(std::get<0>(options.betas()), 0);
  optim::detail::check_beta(std::get<1>(options.betas()), 1);
  DeviceOptimizer o;
  o.kind_ = Kind::SparseAdam;
  o.num_rows_ = num_rows;
  o.dim_ = dim;
  o.adam_ = options;
  return o;
}

// The step's scalars, computed exactly as the CPU optimizers' begin_row_step computes them.
detail::UpdateArgs detail::begin_update(DeviceOptimizer& optimizer, DeviceTensor& weight) {
  DeviceOptimizer& o = optimizer;
  UpdateArgs a;
  a.kind = o.kind_;
  ++o.steps_;
  switch (o.kind_) {
    case OptimizerKind::SGD:
      a.sgd.neg_lr = static_cast<float>(-o.sgd_.lr());
      a.maximize = o.sgd_.maximize();
      break;
    case OptimizerKind::Adagrad: {
      o.adagrad_step_ += 1.0f;
      const double step = o.adagrad_step_;
      const double clr = o.adagrad_.lr() / (1.0 + (step - 1.0) * o.adagrad_.lr_decay());
      a.adagrad.neg_clr = static_cast<float>(-clr);
      a.adagrad.eps = static_cast<float>(o.adagrad_.eps());
      a.maximize = o.adagrad_.maximize();
      break;
    }
    case OptimizerKind::RowWiseAdagrad:
      a.rowwise.lr = static_cast<float>(o.rowwise_.lr());
      a.rowwise.eps = static_cast<float>(o.rowwise_.eps());
      a.rowwise.weight_decay = static_cast<float>(o.rowwise_.weight_decay());
      a.rowwise.decay = o.rowwise_.weight_decay() != 0.0;
      a.rowwise.l2 =
          a.rowwise.decay && o.rowwise_.weight_decay_mode() == optim::WeightDecayMode::L2;
      break;
    case OptimizerKind::SparseAdam: {
      if (!o.state0_.defined()) {
        o.state0_ = DeviceTensor::zeros({o.num_rows_, o.dim_});
        o.state1_ = DeviceTensor::zeros({o.num_rows_, o.dim_});
      }
      const auto [beta1, beta2] = o.adam_.betas();
      const double step = static_cast<double>(o.steps_);
      const double bias_correction1 = 1.0 - std::pow(beta1, step);
      const double bias_correction2 = 1.0 - std::pow(beta2, step);
      a.adam.neg_step_size =
          static_cast<float>(-(o.adam_.lr() * std::sqrt(bias_correction2) / bias_correction1));
      a.adam.one_minus_beta1 = static_cast<float>(1.0 - beta1);
      a.adam.one_minus_beta2 = static_cast<float>(1.0 - beta2);
      a.adam.eps = static_cast<float>(o.adam_.eps());
      a.maximize = o.adam_.maximize();
      break;
    }
  }
  // After the switch: SparseAdam's state exists only from its first step.
  a.weight = static_cast<float*>(weight.raw_data());
  a.state0 = static_cast<float*>(o.state0_.raw_data());
  a.state1 = static_cast<float*>(o.state1_.raw_data());
  return a;
}

// ---- fused backward + step -----------------------------------------------------------------

void fused_backward_step(DeviceTensor& weight, const DeviceTensor& ids,
                         const DeviceTensor& grad_output, DeviceOptimizer& optimizer,
                         const nn::EmbeddingFuncOptions& options) {
  const std::string who = "cuda::fused_backward_step(Embedding)";
  check_fused_table(weight, optimizer, who);
  nn::detail::check_ids_dtype(ids.desc(), "ids");
  nn::detail::check_float32_grad_output(grad_output.desc(), output_shape(ids, optimizer.dim()),
                                        who);
  const std::int64_t padding =
      nn::detail::normalize_padding_idx(options.padding_idx(), optimizer.num_rows(), who);
  check_unknown_ids(options.unknown_ids(), who);
  check_count(ids.numel(), who);
  validate_ids(ids, optimizer.num_rows());

  // Validation is over: from here the step counts and rows change.
  const detail::Grouping g =
      detail::group_by_row(ids.raw_data(), ids.dtype(), ids.numel(), optimizer.num_rows(), padding);
  detail::GradSource src;
  src.grad = static_cast<const float*>(grad_output.raw_data());
  src.scale_grad_by_freq = options.scale_grad_by_freq();
  detail::fused_update(g, src, optimizer.dim(), detail::begin_update(optimizer, weight));
}

void fused_backward_step(DeviceTensor& weight, const DeviceTensor& ids, const DeviceTensor& offsets,
                         const DeviceTensor& grad_output, DeviceOptimizer& optimizer,
                         const nn::EmbeddingBagFuncOptions& options,
                         const DeviceTensor& per_sample_weights) {
  const std::string who = "cuda::fused_backward_step(EmbeddingBag)";
  check_fused_table(weight, optimizer, who);
  nn::detail::check_row_wise_bag_mode(options.mode(), who);
  const DeviceBags bags =
      prepare_bags(ids, offsets, per_sample_weights, weight.desc(), options, who);
  nn::detail::check_float32_grad_output(grad_output.desc(), {bags.num_bags, optimizer.dim()}, who);
  const BagTerms terms = index_bags(ids, bags, options.mode());
  const detail::Grouping g = detail::group_by_row(ids.raw_data(), ids.dtype(), ids.numel(),
                                                  optimizer.num_rows(), bags.padding);
  detail::GradSource src;
  src.grad = static_cast<const float*>(grad_output.raw_data());
  src.bags = &terms.index;
  src.scale_grad_by_freq = options.scale_grad_by_freq();
  detail::fused_update(g, src, optimizer.dim(), detail::begin_update(optimizer, weight));
}

}  // namespace embedkit::cuda
