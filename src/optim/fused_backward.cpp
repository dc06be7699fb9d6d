#include "embedkit/optim/fused_backward.hpp"

#include <cmath>
#include <vector>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/isa_kernels.hpp"
#include "kernels/ref/embedding_bag_ref.hpp"
#include "kernels/ref/row_groups.hpp"
#include "nn/bags.hpp"
#include "nn/ids.hpp"

namespace embedkit::optim {

namespace {

// The optimizer parameter must be the module's table itself, or the update would go elsewhere.
void check_target(const Optimizer& optimizer, std::size_t param_index, const Tensor& table,
                  bool requires_grad, const std::string& who) {
  if (!requires_grad) {
    throw ValueError(who + ": the table is frozen (from_pretrained with freeze); nothing to train");
  }
  if (param_index >= optimizer.params().size()) {
    throw ValueError(who + ": the optimizer has no parameter " + std::to_string(param_index));
  }
  const Parameter& p = optimizer.params()[param_index];
  if (!p.value.shares_storage_with(table) || p.value.raw_data() != table.raw_data() ||
      p.value.shape() != table.shape()) {
    throw ValueError(who + ": optimizer parameter '" + p.name +
                     "' is not this module's table (it must share the table's storage)");
  }
  if (table.dtype() != DType::Float32) {
    throw TypeError(who + ": fused updates need a float32 table, got " +
                    std::string(dtype_name(table.dtype())));
  }
}

std::vector<std::int64_t> as_int64(const Tensor& rows) {
  return rows.to_int64_vector();
}

// One row's gradient: acc = sum over the terms, in order, from +0, of fma(scale, src row, acc).
// The CPU kernels' segment reduce does exactly these operations, vectorised (a scalar std::fma
// loop costs a libm call per element on a build without -mfma).
void sum_terms(const float* src, std::int64_t dim, const std::vector<kernels::cpu::RowTerm>& terms,
               float* acc) {
  const auto& k = kernels::cpu::isa_kernels<float, std::int64_t>();
  k.segment_reduce(src, dim, terms.data(), static_cast<std::int64_t>(terms.size()), acc, 0);
}

}  // namespace

void fused_backward_step(nn::Embedding& embedding, const Tensor& ids, const Tensor& grad_output,
                         Optimizer& optimizer, std::size_t param_index) {
  const std::string who = "fused_backward_step(Embedding)";
  Tensor& table = embedding.weight();
  check_target(optimizer, param_index, table, embedding.requires_grad(), who);
  const std::int64_t num_rows = table.size(0);
  const std::int64_t dim = table.size(1);
  const nn::EmbeddingOptions& opts = embedding.options();
  {
    nn::detail::check_ids_dtype(ids, "ids");
    Shape expected = ids.shape();
    expected.push_back(dim);
    if (!grad_output.defined() || grad_output.dtype() != DType::Float32 ||
        grad_output.shape() != expected) {
      throw ValueError(who + ": grad_output must be float32 with shape " + shape_string(expected));
    }
  }
  const std::int64_t padding = opts.padding_idx() ? *opts.padding_idx() : -1;
  const std::vector<std::int64_t> rows =
      as_int64(nn::detail::resolve_ids(ids, num_rows, opts.unknown_ids(), "ids"));
  const kernels::ref::RowGroups groups =
      kernels::ref::group_by_row(rows.data(), static_cast<std::int64_t>(rows.size()), padding);

  // Validation is over: from here the step counts and rows change.
  const RowStep update = optimizer.begin_row_step(param_index);
  const float* g = grad_output.data<float>();
  std::vector<float> acc(static_cast<std::size_t>(dim));
  std::vector<kernels::cpu::RowTerm> terms;
  for (std::size_t k = 0; k + 1 < groups.starts.size(); ++k) {
    const std::int64_t begin = groups.starts[k];
    const std::int64_t end = groups.starts[k + 1];
    // As the dense backward: a double 1/count rounded to float, then fused multiply-adds.
    const float scale = opts.scale_grad_by_freq()
                            ? static_cast<float>(1.0 / static_cast<double>(end - begin))
                            : 1.0f;
    terms.clear();
    for (std::int64_t t = begin; t < end; ++t) terms.push_back({0, groups.order[t], scale});
    sum_terms(g, dim, terms, acc.data());
    update(groups.rows[k], acc.data());
  }
}

void fused_backward_step(nn::EmbeddingBag& bag, const Tensor& ids, const Tensor& offsets,
                         const Tensor& grad_output, Optimizer& optimizer, std::size_t param_index,
                         const Tensor& per_sample_weights) {
  const std::string who = "fused_backward_step(EmbeddingBag)";
  Tensor& table = bag.weight();
  check_target(optimizer, param_index, table, bag.requires_grad(), who);
  const nn::EmbeddingBagOptions& opts = bag.options();
  if (opts.mode() == nn::BagMode::Max) {
    throw ValueError(who +
                     ": max mode's gradient is per column, not per row; use backward() "
                     "and step()");
  }
  const nn::EmbeddingBagFuncOptions func = nn::EmbeddingBagFuncOptions()
                                               .mode(opts.mode())
                                               .scale_grad_by_freq(opts.scale_grad_by_freq())
                                               .include_last_offset(opts.include_last_offset())
                                               .padding_idx(opts.padding_idx())
                                               .unknown_ids(opts.unknown_ids());
  const nn::detail::Bags bags =
      nn::detail::prepare_bags(ids, offsets, per_sample_weights, table, func, who);
  const std::int64_t dim = table.size(1);
  if (!grad_output.defined() || grad_output.dtype() != DType::Float32 ||
      grad_output.shape() != Shape{bags.num_bags, dim}) {
    throw ValueError(who + ": grad_output must be float32 with shape [" +
                     std::to_string(bags.num_bags) + ", " + std::to_string(dim) + "]");
  }
  const std::int64_t padding = opts.padding_idx() ? *opts.padding_idx() : -1;
  const std::vector<std::int64_t> rows = as_int64(bags.rows);
  const auto n = static_cast<std::int64_t>(rows.size());

  // Each id's bag, and each bag's size without padding (the mean's divisor).
  std::vector<std::int64_t> bag_of(static_cast<std::size_t>(n));
  std::vector<std::int64_t> bag_size(static_cast<std::size_t>(bags.num_bags), 0);
  for (std::int64_t b = 0; b < bags.num_bags; ++b) {
    for (std::int64_t i = bags.bounds[b]; i < bags.bounds[b + 1]; ++i) {
      bag_of[i] = b;
      bag_size[b] += rows[i] != padding;
    }
  }
  const float* psw =
      bags.per_sample_weights.defined() ? bags.per_sample_weights.data<float>() : nullptr;
  const kernels::ref::Reduce reduce =
      opts.mode() == nn::BagMode::Sum ? kernels::ref::Reduce::Sum : kernels::ref::Reduce::Mean;
  const kernels::ref::RowGroups groups = kernels::ref::group_by_row(rows.data(), n, padding);

  const RowStep update = optimizer.begin_row_step(param_index);
  const float* g = grad_output.data<float>();
  std::vector<float> acc(static_cast<std::size_t>(dim));
  std::vector<kernels::cpu::RowTerm> terms;
  for (std::size_t k = 0; k + 1 < groups.starts.size(); ++k) {
    const std::int64_t begin = groups.starts[k];
    const std::int64_t end = groups.starts[k + 1];
    terms.clear();
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t i = groups.order[t];
      const std::int64_t b = bag_of[i];
      const float scale =
          kernels::ref::bag_grad_scale(psw != nullptr ? psw[i] : 1.0, end - begin, bag_size[b],
                                       reduce, opts.scale_grad_by_freq());
      terms.push_back({0, b, scale});
    }
    sum_terms(g, dim, terms, acc.data());
    update(groups.rows[k], acc.data());
  }
}

}  // namespace embedkit::optim
