#include "embedkit/nn/embedding_bag.hpp"

#include <vector>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/embedding_bag_cpu.hpp"
#include "kernels/cpu/embedding_cpu.hpp"
#include "nn/bags.hpp"
#include "nn/dispatch.hpp"
#include "nn/embedding_checks.hpp"
#include "nn/ids.hpp"
#include "nn/output_check.hpp"
#include "nn/repr.hpp"

namespace embedkit::nn {

namespace {

const std::string kWho = "EmbeddingBag";

template <class W>
const W* psw_data(const detail::Bags& bags) {
  return bags.per_sample_weights.defined()
             ? static_cast<const W*>(bags.per_sample_weights.raw_data())
             : nullptr;
}

}  // namespace

namespace functional {

namespace {

void pool(const detail::Bags& bags, Tensor& weight, const EmbeddingBagFuncOptions& options,
          Tensor& out) {
  const std::int64_t padding =
      detail::normalize_padding_idx(options.padding_idx(), weight.size(0), kWho);
  // The one write to the table; refused before it for a table mapped read-only.
  if (options.max_norm()) weight.check_writable(kWho + ": max_norm");
  const std::int64_t dim = weight.size(1);
  detail::dispatch(weight.dtype(), bags.rows.dtype(), [&](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    W* table = static_cast<W*>(weight.raw_data());
    const I* rows = bags.rows.data<I>();
    if (options.max_norm()) {
      // Like PyTorch, every referenced row is renormalised, padding ids included.
      kernels::cpu::renorm_rows(table, dim, rows, bags.rows.numel(), *options.max_norm(),
                                options.norm_type());
    }
    kernels::cpu::bag_forward(static_cast<const W*>(table), dim, rows, bags.bounds.data(),
                              bags.num_bags, options.mode(), psw_data<W>(bags), padding,
                              static_cast<W*>(out.raw_data()), nullptr, weight.size(0));
  });
}

}  // namespace

Tensor embedding_bag(const Tensor& ids, Tensor& weight, const Tensor& offsets,
                     const EmbeddingBagFuncOptions& options, const Tensor& per_sample_weights) {
  const detail::Bags bags =
      detail::prepare_bags(ids, offsets, per_sample_weights, weight, options, kWho);
  Tensor out = Tensor::empty({bags.num_bags, weight.size(1)}, weight.dtype());
  pool(bags, weight, options, out);
  return out;
}

void embedding_bag_into(const Tensor& ids, Tensor& weight, const Tensor& offsets, Tensor& out,
                        const EmbeddingBagFuncOptions& options, const Tensor& per_sample_weights) {
  const detail::Bags bags =
      detail::prepare_bags(ids, offsets, per_sample_weights, weight, options, kWho);
  detail::check_output(out, {bags.num_bags, weight.size(1)}, weight.dtype(),
                       {&weight, &ids, &offsets, &per_sample_weights}, kWho);
  pool(bags, weight, options, out);
}

EmbeddingBagGrad embedding_bag_backward(const Tensor& ids, const Tensor& weight,
                                        const Tensor& offsets, const Tensor& grad_output,
                                        const EmbeddingBagFuncOptions& options,
                                        const Tensor& per_sample_weights) {
  const detail::Bags bags =
      detail::prepare_bags(ids, offsets, per_sample_weights, weight, options, kWho);
  const std::int64_t num_rows = weight.size(0);
  const std::int64_t dim = weight.size(1);
  const std::int64_t padding = detail::normalize_padding_idx(options.padding_idx(), num_rows, kWho);
  if (!grad_output.defined() || grad_output.dtype() != weight.dtype()) {
    throw TypeError(kWho + ": grad_output must be defined and of the table's dtype (" +
                    std::string(dtype_name(weight.dtype())) + ")");
  }
  if (grad_output.shape() != Shape{bags.num_bags, dim}) {
    throw ValueError(kWho + ": grad_output must have shape [" + std::to_string(bags.num_bags) +
                     ", " + std::to_string(dim) + "], got " + shape_string(grad_output.shape()));
  }
  const BagMode mode = options.mode();

  EmbeddingBagGrad result;
  detail::dispatch(weight.dtype(), bags.rows.dtype(), [&](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    const W* table = static_cast<const W*>(weight.raw_data());
    const W* g = static_cast<const W*>(grad_output.raw_data());
    const I* rows = bags.rows.data<I>();
    const std::int64_t n = bags.rows.numel();
    if (options.sparse()) {
      Tensor idx = Tensor::empty({n}, DType::Int64);
      Tensor val = Tensor::empty({n, dim}, weight.dtype());
      const std::int64_t nnz = kernels::cpu::bag_backward_sparse(
          g, rows, bags.bounds.data(), bags.num_bags, dim, mode, psw_data<W>(bags), padding,
          idx.data<std::int64_t>(), static_cast<W*>(val.raw_data()));
      Tensor idx2 = Tensor::empty({nnz}, DType::Int64);
      Tensor val2 = Tensor::empty({nnz, dim}, weight.dtype());
      if (idx2.nbytes()) std::memcpy(idx2.raw_data(), idx.raw_data(), idx2.nbytes());
      if (val2.nbytes()) std::memcpy(val2.raw_data(), val.raw_data(), val2.nbytes());
      result.weight = WeightGrad::from_sparse(RowSparseTensor(idx2, val2, num_rows));
    } else {
      std::vector<std::int64_t> arg_max;
      if (mode == BagMode::Max) {
        // The forward's arg-max, recomputed from the (unchanged) table.
        arg_max.resize(static_cast<std::size_t>(bags.num_bags * dim));
        std::vector<W> scratch(static_cast<std::size_t>(bags.num_bags * dim));
        kernels::cpu::bag_forward(table, dim, rows, bags.bounds.data(), bags.num_bags, mode,
                                  static_cast<const W*>(nullptr), padding, scratch.data(),
                                  arg_max.data(), num_rows);
      }
      Tensor grad = Tensor::empty({num_rows, dim}, weight.dtype());
      kernels::cpu::bag_backward_dense(
          g, rows, bags.bounds.data(), bags.num_bags, dim, num_rows, mode, psw_data<W>(bags),
          padding, options.scale_grad_by_freq(), arg_max.data(), static_cast<W*>(grad.raw_data()));
      result.weight = WeightGrad::from_dense(grad);
    }
    if (bags.per_sample_weights.defined()) {
      Tensor dpsw = Tensor::empty(per_sample_weights.shape(), weight.dtype());
      kernels::cpu::bag_backward_per_sample_weights(g, table, rows, bags.bounds.data(),
                                                    bags.num_bags, dim, padding,
                                                    static_cast<W*>(dpsw.raw_data()));
      result.per_sample_weights = dpsw;
    }
  });
  return result;
}

}  // namespace functional

EmbeddingBag::EmbeddingBag(const EmbeddingBagOptions& options) : EmbeddingBag(options, nullptr) {}

EmbeddingBag::EmbeddingBag(const EmbeddingBagOptions& options, Generator& gen)
    : EmbeddingBag(options, &gen) {}

EmbeddingBag::EmbeddingBag(const EmbeddingBagOptions& options, Generator* gen) : options_(options) {
  detail::check_table_size(options.num_embeddings(), options.embedding_dim(), kWho);
  if (options.padding_idx()) {
    options_.padding_idx(
        detail::normalize_padding_idx(options.padding_idx(), options.num_embeddings(), kWho));
  }
  detail::check_max_norm(options.max_norm(), options.norm_type(), kWho);
  detail::check_unknown_ids(options.unknown_ids(), options.num_embeddings(), kWho);
  detail::check_bag_options(options.mode(), options.sparse(), options.scale_grad_by_freq(), kWho);
  if (options.weight().defined()) {
    detail::check_given_table(options.weight().desc(), options.num_embeddings(),
                              options.embedding_dim(), kWho);
    weight_ = options.weight();
  } else {
    if (!is_floating(options.dtype())) {
      throw TypeError(kWho + ": dtype must be float32, float16 or bfloat16, got " +
                      std::string(dtype_name(options.dtype())));
    }
    weight_ = Tensor::empty({options.num_embeddings(), options.embedding_dim()}, options.dtype());
    reset_with(gen);
  }
  options_.weight(Tensor());
}

EmbeddingBag EmbeddingBag::from_pretrained(const Tensor& embeddings,
                                           const EmbeddingBagFromPretrainedOptions& options) {
  detail::check_table(embeddings.desc(), kWho + ".from_pretrained: embeddings");
  EmbeddingBag e(EmbeddingBagOptions(embeddings.size(0), embeddings.size(1))
                     .weight(embeddings)
                     .max_norm(options.max_norm())
                     .norm_type(options.norm_type())
                     .scale_grad_by_freq(options.scale_grad_by_freq())
                     .mode(options.mode())
                     .sparse(options.sparse())
                     .include_last_offset(options.include_last_offset())
                     .padding_idx(options.padding_idx())
                     .unknown_ids(options.unknown_ids()));
  e.requires_grad_ = !options.freeze();
  return e;
}

void EmbeddingBag::reset_parameters() {
  reset_with(nullptr);
}

void EmbeddingBag::reset_parameters(Generator& gen) {
  reset_with(&gen);
}

void EmbeddingBag::reset_with(Generator* gen) {
  if (gen != nullptr) {
    fill_normal(weight_, *gen);
  } else {
    fill_normal(weight_);
  }
  if (options_.padding_idx()) detail::zero_row(weight_, *options_.padding_idx());
}

EmbeddingBagFuncOptions EmbeddingBag::func_options() const {
  return EmbeddingBagFuncOptions()
      .mode(options_.mode())
      .max_norm(options_.max_norm())
      .norm_type(options_.norm_type())
      .scale_grad_by_freq(options_.scale_grad_by_freq())
      .sparse(options_.sparse())
      .include_last_offset(options_.include_last_offset())
      .padding_idx(options_.padding_idx())
      .unknown_ids(options_.unknown_ids());
}

Tensor EmbeddingBag::forward(const Tensor& ids, const Tensor& offsets,
                             const Tensor& per_sample_weights) {
  return functional::embedding_bag(ids, weight_, offsets, func_options(), per_sample_weights);
}

EmbeddingBagGrad EmbeddingBag::backward(const Tensor& ids, const Tensor& offsets,
                                        const Tensor& grad_output,
                                        const Tensor& per_sample_weights) const {
  if (!requires_grad_) {
    throw ValueError(kWho +
                     ": the table is frozen (from_pretrained with freeze); it has no "
                     "gradient. Use set_requires_grad(true) to train it");
  }
  return functional::embedding_bag_backward(ids, weight_, offsets, grad_output, func_options(),
                                            per_sample_weights);
}

NamedTensors EmbeddingBag::named_parameters() const {
  return {{"weight", weight_}};
}

std::optional<std::int64_t> EmbeddingBag::padding_row(const std::string& name) const {
  return name == "weight" ? options_.padding_idx() : std::nullopt;
}

std::string EmbeddingBag::repr() const {
  std::string s =
      "EmbeddingBag(" + std::to_string(weight_.size(0)) + ", " + std::to_string(weight_.size(1));
  if (options_.max_norm()) s += ", max_norm=" + python_float_repr(*options_.max_norm());
  if (options_.norm_type() != 2.0) s += ", norm_type=" + python_float_repr(options_.norm_type());
  if (options_.scale_grad_by_freq()) s += ", scale_grad_by_freq=True";
  s += ", mode=" + bag_mode_name(options_.mode());
  if (options_.padding_idx()) s += ", padding_idx=" + std::to_string(*options_.padding_idx());
  return s + ")";
}

}  // namespace embedkit::nn
