#include "embedkit/nn/embedding.hpp"

#include "embedkit/core/error.hpp"
#include "kernels/cpu/embedding_cpu.hpp"
#include "nn/dispatch.hpp"
#include "nn/embedding_checks.hpp"
#include "nn/ids.hpp"
#include "nn/output_check.hpp"
#include "nn/repr.hpp"

namespace embedkit::nn {

namespace {

const std::string kWho = "Embedding";

Shape output_shape(const Tensor& ids, std::int64_t dim) {
  Shape s = ids.shape();
  s.push_back(dim);
  return s;
}

}  // namespace

namespace functional {

namespace {

// Every check of the lookup, before anything is written; returns the resolved ids.
Tensor checked_rows(const Tensor& ids, const Tensor& weight, const EmbeddingFuncOptions& options) {
  detail::check_table(weight.desc(), kWho);
  const std::int64_t num_rows = weight.size(0);
  detail::normalize_padding_idx(options.padding_idx(), num_rows, kWho);
  detail::check_max_norm(options.max_norm(), options.norm_type(), kWho);
  if (options.max_norm()) weight.check_writable(kWho + ": max_norm");
  detail::check_sparse_options(options.sparse(), options.scale_grad_by_freq(), kWho);
  detail::check_unknown_ids(options.unknown_ids(), num_rows, kWho);
  // Every id is checked before max_norm writes to the table.
  return detail::resolve_ids(ids, num_rows, options.unknown_ids(), "ids");
}

void lookup(const Tensor& rows, Tensor& weight, const EmbeddingFuncOptions& options, Tensor& out) {
  const std::int64_t dim = weight.size(1);
  detail::dispatch(weight.dtype(), rows.dtype(), [&](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    W* table = static_cast<W*>(weight.raw_data());
    const I* r = rows.data<I>();
    if (options.max_norm()) {
      kernels::cpu::renorm_rows(table, dim, r, rows.numel(), *options.max_norm(),
                                options.norm_type());
    }
    kernels::cpu::gather(static_cast<const W*>(table), dim, r, rows.numel(),
                         static_cast<W*>(out.raw_data()), weight.size(0));
  });
}

}  // namespace

Tensor embedding(const Tensor& ids, Tensor& weight, const EmbeddingFuncOptions& options) {
  const Tensor rows = checked_rows(ids, weight, options);
  Tensor out = Tensor::empty(output_shape(ids, weight.size(1)), weight.dtype());
  lookup(rows, weight, options, out);
  return out;
}

void embedding_into(const Tensor& ids, Tensor& weight, Tensor& out,
                    const EmbeddingFuncOptions& options) {
  const Tensor rows = checked_rows(ids, weight, options);
  detail::check_output(out, output_shape(ids, weight.size(1)), weight.dtype(), {&weight, &ids},
                       kWho);
  lookup(rows, weight, options, out);
}

WeightGrad embedding_backward(const Tensor& ids, const Tensor& grad_output,
                              std::int64_t num_embeddings, const EmbeddingFuncOptions& options) {
  detail::check_num_embeddings(num_embeddings, kWho);
  if (!grad_output.defined() || !is_floating(grad_output.dtype())) {
    throw TypeError(kWho + ": grad_output must be a float tensor");
  }
  detail::check_ids_dtype(ids.desc(), "ids");
  // ids.shape + [embedding_dim], embedding_dim being grad_output's last size (the rank is
  // compared first, so that size exists).
  if (grad_output.dim() != ids.dim() + 1 ||
      grad_output.shape() != output_shape(ids, grad_output.size(-1))) {
    throw ValueError(kWho + ": grad_output must have shape ids.shape + [embedding_dim], got " +
                     shape_string(grad_output.shape()) + " for ids " + shape_string(ids.shape()));
  }
  const std::int64_t dim = grad_output.size(-1);
  const std::int64_t padding =
      detail::normalize_padding_idx(options.padding_idx(), num_embeddings, kWho);
  detail::check_sparse_options(options.sparse(), options.scale_grad_by_freq(), kWho);
  detail::check_unknown_ids(options.unknown_ids(), num_embeddings, kWho);
  const Tensor rows = detail::resolve_ids(ids, num_embeddings, options.unknown_ids(), "ids");
  const std::int64_t n = rows.numel();

  return detail::dispatch(grad_output.dtype(), rows.dtype(), [&](auto w, auto i) {
    using W = decltype(w);
    using I = decltype(i);
    const W* g = static_cast<const W*>(grad_output.raw_data());
    const I* r = rows.data<I>();
    if (!options.sparse()) {
      Tensor grad = Tensor::empty({num_embeddings, dim}, grad_output.dtype());
      kernels::cpu::embedding_backward_dense(g, r, n, dim, num_embeddings, padding,
                                             options.scale_grad_by_freq(),
                                             static_cast<W*>(grad.raw_data()));
      return WeightGrad::from_dense(grad);
    }
    Tensor idx = Tensor::empty({n}, DType::Int64);
    Tensor val = Tensor::empty({n, dim}, grad_output.dtype());
    const std::int64_t nnz = kernels::cpu::embedding_backward_sparse(
        g, r, n, dim, padding, idx.data<std::int64_t>(), static_cast<W*>(val.raw_data()));
    if (nnz != n) {  // padding positions were dropped: keep exactly nnz entries
      Tensor idx2 = Tensor::empty({nnz}, DType::Int64);
      Tensor val2 = Tensor::empty({nnz, dim}, grad_output.dtype());
      if (idx2.nbytes()) std::memcpy(idx2.raw_data(), idx.raw_data(), idx2.nbytes());
      if (val2.nbytes()) std::memcpy(val2.raw_data(), val.raw_data(), val2.nbytes());
      idx = idx2;
      val = val2;
    }
    return WeightGrad::from_sparse(RowSparseTensor(idx, val, num_embeddings));
  });
}

}  // namespace functional

Embedding::Embedding(const EmbeddingOptions& options) : Embedding(options, nullptr) {}

Embedding::Embedding(const EmbeddingOptions& options, Generator& gen) : Embedding(options, &gen) {}

Embedding::Embedding(const EmbeddingOptions& options, Generator* gen) : options_(options) {
  detail::check_table_size(options.num_embeddings(), options.embedding_dim(), kWho);
  if (options.padding_idx()) {
    options_.padding_idx(
        detail::normalize_padding_idx(options.padding_idx(), options.num_embeddings(), kWho));
  }
  detail::check_max_norm(options.max_norm(), options.norm_type(), kWho);
  detail::check_sparse_options(options.sparse(), options.scale_grad_by_freq(), kWho);
  detail::check_unknown_ids(options.unknown_ids(), options.num_embeddings(), kWho);
  if (options.weight().defined()) {
    detail::check_given_table(options.weight().desc(), options.num_embeddings(),
                              options.embedding_dim(), kWho);
    weight_ = options.weight();  // shared with the caller, as PyTorch's _weight
  } else {
    if (!is_floating(options.dtype())) {
      throw TypeError(kWho + ": dtype must be float32, float16 or bfloat16, got " +
                      std::string(dtype_name(options.dtype())));
    }
    weight_ = Tensor::empty({options.num_embeddings(), options.embedding_dim()}, options.dtype());
    reset_with(gen);
  }
  options_.weight(Tensor());  // the module holds the table; options keep only settings
}

Embedding Embedding::from_pretrained(const Tensor& embeddings,
                                     const EmbeddingFromPretrainedOptions& options) {
  detail::check_table(embeddings.desc(), kWho + ".from_pretrained: embeddings");
  Embedding e(EmbeddingOptions(embeddings.size(0), embeddings.size(1))
                  .weight(embeddings)
                  .padding_idx(options.padding_idx())
                  .max_norm(options.max_norm())
                  .norm_type(options.norm_type())
                  .scale_grad_by_freq(options.scale_grad_by_freq())
                  .sparse(options.sparse())
                  .unknown_ids(options.unknown_ids()));
  e.requires_grad_ = !options.freeze();
  return e;
}

void Embedding::reset_parameters() {
  reset_with(nullptr);
}

void Embedding::reset_parameters(Generator& gen) {
  reset_with(&gen);
}

void Embedding::reset_with(Generator* gen) {
  if (gen != nullptr) {
    fill_normal(weight_, *gen);
  } else {
    fill_normal(weight_);
  }
  if (options_.padding_idx()) detail::zero_row(weight_, *options_.padding_idx());
}

EmbeddingFuncOptions Embedding::func_options() const {
  return EmbeddingFuncOptions()
      .padding_idx(options_.padding_idx())
      .max_norm(options_.max_norm())
      .norm_type(options_.norm_type())
      .scale_grad_by_freq(options_.scale_grad_by_freq())
      .sparse(options_.sparse())
      .unknown_ids(options_.unknown_ids());
}

Tensor Embedding::forward(const Tensor& ids) {
  return functional::embedding(ids, weight_, func_options());
}

WeightGrad Embedding::backward(const Tensor& ids, const Tensor& grad_output) const {
  if (!requires_grad_) {
    throw ValueError(kWho +
                     ": the table is frozen (from_pretrained with freeze); it has no "
                     "gradient. Use set_requires_grad(true) to train it");
  }
  if (grad_output.defined() && grad_output.dtype() != weight_.dtype()) {
    throw TypeError(kWho + ": grad_output is " + std::string(dtype_name(grad_output.dtype())) +
                    " but the table is " + std::string(dtype_name(weight_.dtype())));
  }
  if (grad_output.defined() && grad_output.dim() >= 1 && grad_output.size(-1) != weight_.size(1)) {
    throw ValueError(kWho + ": grad_output's last dimension is " +
                     std::to_string(grad_output.size(-1)) + ", embedding_dim is " +
                     std::to_string(weight_.size(1)));
  }
  return functional::embedding_backward(ids, grad_output, weight_.size(0), func_options());
}

NamedTensors Embedding::named_parameters() const {
  return {{"weight", weight_}};
}

std::optional<std::int64_t> Embedding::padding_row(const std::string& name) const {
  return name == "weight" ? options_.padding_idx() : std::nullopt;
}

std::string Embedding::repr() const {
  std::string s =
      "Embedding(" + std::to_string(weight_.size(0)) + ", " + std::to_string(weight_.size(1));
  if (options_.padding_idx()) s += ", padding_idx=" + std::to_string(*options_.padding_idx());
  if (options_.max_norm()) s += ", max_norm=" + python_float_repr(*options_.max_norm());
  if (options_.norm_type() != 2.0) s += ", norm_type=" + python_float_repr(options_.norm_type());
  if (options_.scale_grad_by_freq()) s += ", scale_grad_by_freq=True";
  if (options_.sparse()) s += ", sparse=True";
  return s + ")";
}

}  // namespace embedkit::nn
