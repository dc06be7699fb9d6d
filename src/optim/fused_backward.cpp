#include "embedkit/optim/fused_backward.hpp"

#include <typeinfo>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "kernels/bag_grad_scale.hpp"
#include "kernels/cpu/input_order_update.hpp"
#include "kernels/cpu/row_sums.hpp"
#include "kernels/cpu/sort_terms.hpp"
#include "nn/bags.hpp"
#include "nn/embedding_checks.hpp"
#include "nn/ids.hpp"
#include "optim/rows.hpp"
#include "optim/torch_ops.hpp"

namespace embedkit::optim {

namespace {

// The index of the optimizer parameter that is the module's table (shares its storage, same
// start and shape): the update must go to the table itself. ValueError when there is none.
std::size_t table_parameter(const Optimizer& optimizer, const Tensor& table, bool requires_grad,
                            const std::string& who) {
  if (!requires_grad) {
    throw ValueError(who + ": the table is frozen (from_pretrained with freeze); nothing to train");
  }
  const std::vector<Parameter>& params = optimizer.params();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& value = params[i].value;
    if (!value.shares_storage_with(table) || value.raw_data() != table.raw_data() ||
        value.shape() != table.shape()) {
      continue;
    }
    if (table.dtype() != DType::Float32) {
      throw TypeError(who + ": fused updates need a float32 table, got " +
                      std::string(dtype_name(table.dtype())));
    }
    return i;
  }
  throw ValueError(who +
                   ": the module's table is not among the optimizer's parameters (give the "
                   "optimizer the module's weight, or optim::make_parameters(module))");
}

using kernels::cpu::RowTerm;

// The grouping's buffers are the calling thread's, reused from call to call: a training loop
// calls this once per batch, and fresh buffers of a batch's size would be page-faulted in every
// time.
struct GroupingBuffers {
  std::vector<RowTerm> terms;
  kernels::cpu::RowGroupingScratch scratch;
};
GroupingBuffers& grouping_buffers() {
  thread_local GroupingBuffers buffers;
  return buffers;
}

// One term per non-padding id, {row, position, 0}, grouped by row (kernels::cpu::group_by_row).
std::vector<RowTerm>& terms_by_row(const std::vector<std::int64_t>& rows, std::int64_t num_rows,
                                   std::int64_t padding) {
  GroupingBuffers& b = grouping_buffers();
  kernels::cpu::group_by_row(rows.data(), static_cast<std::int64_t>(rows.size()), num_rows, padding,
                             b.terms, b.scratch);
  return b.terms;
}

// One term per non-padding id, {row, bag, 0}, grouped by row (kernels::cpu::group_bags_by_row).
std::vector<RowTerm>& bag_terms_by_row(const std::vector<std::int64_t>& rows,
                                       const std::vector<std::int64_t>& bounds,
                                       std::int64_t num_rows, std::int64_t padding) {
  GroupingBuffers& b = grouping_buffers();
  kernels::cpu::group_bags_by_row(rows.data(), bounds.data(),
                                  static_cast<std::int64_t>(bounds.size()) - 1, num_rows, padding,
                                  b.terms, b.scratch);
  return b.terms;
}

// The input-order mode's terms: the calling thread's buffer, emptied, kept for its next call
// (as terms_by_row's, so that a batch's buffer is not page-faulted in on every step).
std::vector<RowTerm>& input_order_terms(std::size_t capacity) {
  thread_local std::vector<RowTerm> terms;
  terms.clear();
  terms.reserve(capacity);
  return terms;
}

// Calls fn(begin, end) for each run of equal rows (terms in runs, terms_by_row's).
template <class F>
void for_each_run(std::vector<RowTerm>& terms, F&& fn) {
  for (std::size_t b = 0; b < terms.size();) {
    std::size_t e = b + 1;
    while (e < terms.size() && terms[e].dst == terms[b].dst) ++e;
    fn(b, e);
    b = e;
  }
}

// The row the optimizer's RowStep leaves alone (the parameter's padding row), or -1: the
// input-order mode leaves it alone too.
std::int64_t frozen_row(const Optimizer& optimizer, std::size_t param_index) {
  const Parameter& p = optimizer.params()[param_index];
  return p.padding_idx ? *p.padding_idx : -1;
}

// Hands every touched row's summed gradient to the optimizer, rows in parallel (RowStep is
// safe to call concurrently for distinct rows), prefetching the table rows it will update and
// their optimizer state. grad_rows: grad_rows_count rows of the table's width.
void sum_and_update(const float* grad_rows, std::int64_t grad_rows_count, Tensor& table,
                    const std::vector<RowTerm>& terms, Optimizer& optimizer,
                    std::size_t param_index, const RowStep& update) {
  const std::int64_t dim = table.size(1);
  const std::int64_t rows = table.size(0);
  // Plain SGD (begin_row_step has refused momentum and weight decay): its update, fused into
  // the kernel that sums the rows, applies each sum from registers, with no call per row.
  // The same operations as RowStep's add_scaled (fma(-lr, g, w)), so the same bits. Only SGD
  // itself: a subclass may have its own begin_row_step.
  const auto* sgd =
      typeid(optimizer) == typeid(SGD) ? static_cast<const SGD*>(&optimizer) : nullptr;
  if (sgd != nullptr && !sgd->options().maximize()) {
    kernels::cpu::sgd_step_runs(grad_rows, grad_rows_count, dim, terms, table.data<float>(), rows,
                                detail::f32(-sgd->options().lr()),
                                frozen_row(optimizer, param_index));
    return;
  }
  // Row-wise Adagrad without weight decay, likewise fused: the operations of its row update
  // (RowWiseAdagrad::update_row) run in the kernel on the row's sum while it is in L1.
  auto* rowwise = typeid(optimizer) == typeid(RowWiseAdagrad)
                      ? static_cast<RowWiseAdagrad*>(&optimizer)
                      : nullptr;
  if (rowwise != nullptr && rowwise->options().weight_decay() == 0.0) {
    kernels::cpu::rowwise_adagrad_step_runs(
        grad_rows, grad_rows_count, dim, terms, table.data<float>(), rows,
        rowwise->accumulators(param_index), detail::f32(rowwise->options().lr()),
        detail::f32(rowwise->options().eps()), frozen_row(optimizer, param_index));
    return;
  }
  // Adagrad, not maximizing, likewise (begin_row_step has refused weight decay and counted the
  // step, whose -clr the kernel applies): the operations of its sparse row update.
  auto* adagrad =
      typeid(optimizer) == typeid(Adagrad) ? static_cast<Adagrad*>(&optimizer) : nullptr;
  if (adagrad != nullptr && !adagrad->options().maximize()) {
    kernels::cpu::adagrad_step_runs(
        grad_rows, grad_rows_count, dim, terms, table.data<float>(), rows,
        adagrad->accumulators(param_index), adagrad->row_step_neg_clr(param_index),
        detail::f32(adagrad->options().eps()), frozen_row(optimizer, param_index));
    return;
  }
  std::vector<kernels::cpu::TouchedRows> touched = {
      {table.raw_data(), dim * static_cast<std::int64_t>(sizeof(float)), rows}};
  for (const RowStateTable& s : optimizer.row_state_tables(param_index)) {
    touched.push_back({s.base, s.row_bytes, rows});
  }
  kernels::cpu::for_each_row_sum(grad_rows, grad_rows_count, dim, terms, update, touched);
}

// FusedSummation::InputOrder's checks: c in row += c * gradient, the update of an optimizer
// linear in the gradient (SGD without momentum and weight decay; c = -lr, or lr to maximize).
// ValueError for any other optimizer and for scale_grad_by_freq (it scales by a row's count,
// which only grouping the ids finds).
float input_order_coefficient(const Optimizer& optimizer, bool scale_grad_by_freq,
                              const std::string& who) {
  const auto* sgd = dynamic_cast<const SGD*>(&optimizer);
  if (sgd == nullptr || sgd->options().momentum() != 0.0 || sgd->options().weight_decay() != 0.0) {
    throw ValueError(who +
                     ": the input-order mode (approx_sgd) applies each id's update on its own, "
                     "which equals the summed update only for an optimizer linear in the "
                     "gradient: SGD without momentum and weight decay, got " +
                     optimizer.name() + (sgd != nullptr ? " with momentum or weight decay" : ""));
  }
  if (scale_grad_by_freq) {
    throw ValueError(who +
                     ": the input-order mode (approx_sgd) cannot scale by frequency "
                     "(scale_grad_by_freq needs every row's count first); use the exact mode");
  }
  const double lr = sgd->options().lr();
  return detail::f32(sgd->options().maximize() ? lr : -lr);
}

}  // namespace

void fused_backward_step(nn::Embedding& embedding, const Tensor& ids, const Tensor& grad_output,
                         Optimizer& optimizer, FusedSummation summation) {
  const std::string who = "fused_backward_step(Embedding)";
  Tensor& table = embedding.weight();
  const std::size_t param_index = table_parameter(optimizer, table, embedding.requires_grad(), who);
  const std::int64_t num_rows = table.size(0);
  const std::int64_t dim = table.size(1);
  const nn::EmbeddingOptions& opts = embedding.options();
  {
    nn::detail::check_ids_dtype(ids.desc(), "ids");
    Shape expected = ids.shape();
    expected.push_back(dim);
    nn::detail::check_float32_grad_output(grad_output.desc(), expected, who);
  }
  const std::int64_t padding = opts.padding_idx() ? *opts.padding_idx() : -1;
  const bool input_order = summation == FusedSummation::InputOrder;
  const float coefficient =
      input_order ? input_order_coefficient(optimizer, opts.scale_grad_by_freq(), who) : 0.0f;
  const std::vector<std::int64_t> rows =
      nn::detail::resolve_ids(ids, num_rows, opts.unknown_ids(), "ids").to_int64_vector();
  if (input_order) {
    const std::int64_t frozen = frozen_row(optimizer, param_index);
    std::vector<RowTerm>& terms = input_order_terms(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] == padding || rows[i] == frozen) continue;
      terms.push_back({rows[i], static_cast<std::int64_t>(i), coefficient});
    }
    static_cast<void>(optimizer.begin_row_step(param_index));  // counts the step
    kernels::cpu::apply_in_input_order(grad_output.data<float>(), dim, terms, table.data<float>(),
                                       num_rows);
    return;
  }
  std::vector<RowTerm>& terms = terms_by_row(rows, num_rows, padding);
  // Each term adds grad_output[position] to its row. As the dense backward: a double
  // 1/count rounded to float, then fused multiply-adds (a scale of 1 adds exactly).
  for_each_run(terms, [&](std::size_t b, std::size_t e) {
    const float scale =
        opts.scale_grad_by_freq() ? static_cast<float>(1.0 / static_cast<double>(e - b)) : 1.0f;
    for (std::size_t t = b; t < e; ++t) terms[t].scale = scale;
  });

  // Validation is over: from here the step counts and rows change.
  const RowStep update = optimizer.begin_row_step(param_index);
  sum_and_update(grad_output.data<float>(), static_cast<std::int64_t>(rows.size()), table, terms,
                 optimizer, param_index, update);
}

void fused_backward_step(nn::EmbeddingBag& bag, const Tensor& ids, const Tensor& offsets,
                         const Tensor& grad_output, Optimizer& optimizer,
                         const Tensor& per_sample_weights, FusedSummation summation) {
  const std::string who = "fused_backward_step(EmbeddingBag)";
  Tensor& table = bag.weight();
  const std::size_t param_index = table_parameter(optimizer, table, bag.requires_grad(), who);
  const nn::EmbeddingBagOptions& opts = bag.options();
  nn::detail::check_row_wise_bag_mode(opts.mode(), who);
  const nn::EmbeddingBagFuncOptions func = nn::EmbeddingBagFuncOptions()
                                               .mode(opts.mode())
                                               .scale_grad_by_freq(opts.scale_grad_by_freq())
                                               .include_last_offset(opts.include_last_offset())
                                               .padding_idx(opts.padding_idx())
                                               .unknown_ids(opts.unknown_ids());
  const nn::detail::Bags bags =
      nn::detail::prepare_bags(ids, offsets, per_sample_weights, table, func, who);
  const std::int64_t dim = table.size(1);
  nn::detail::check_float32_grad_output(grad_output.desc(), {bags.num_bags, dim}, who);
  const std::int64_t padding = opts.padding_idx() ? *opts.padding_idx() : -1;
  const bool input_order = summation == FusedSummation::InputOrder;
  const float coefficient =
      input_order ? input_order_coefficient(optimizer, opts.scale_grad_by_freq(), who) : 0.0f;
  const std::vector<std::int64_t> rows = bags.rows.to_int64_vector();
  const auto n = static_cast<std::int64_t>(rows.size());
  const float* psw =
      bags.per_sample_weights.defined() ? bags.per_sample_weights.data<float>() : nullptr;
  const bool mean = opts.mode() == nn::BagMode::Mean;

  if (input_order) {
    // One term per occurrence, in input order: its bag's gradient row, scaled as the bag
    // backward scales it, times the coefficient (one rounding of the product; without
    // per-sample weights the same for every id of a bag).
    const std::int64_t frozen = frozen_row(optimizer, param_index);
    const auto times_coefficient = [coefficient](float scale) {
      return static_cast<float>(static_cast<double>(coefficient) * double{scale});
    };
    std::vector<RowTerm>& terms = input_order_terms(rows.size());
    for (std::int64_t b = 0; b < bags.num_bags; ++b) {
      const std::int64_t size = kernels::bag_count(rows.data(), bags.bounds.data(), b, padding);
      const float bag_scale = times_coefficient(kernels::bag_grad_scale(1.0, 1, size, mean, false));
      for (std::int64_t i = bags.bounds[b]; i < bags.bounds[b + 1]; ++i) {
        const std::int64_t row = rows[static_cast<std::size_t>(i)];
        if (row == padding || row == frozen) continue;
        const float scale =
            psw != nullptr
                ? times_coefficient(kernels::bag_grad_scale(psw[i], 1, size, mean, false))
                : bag_scale;
        terms.push_back({row, b, scale});
      }
    }
    static_cast<void>(optimizer.begin_row_step(param_index));  // counts the step
    kernels::cpu::apply_in_input_order(grad_output.data<float>(), dim, terms, table.data<float>(),
                                       table.size(0));
    return;
  }

  // Each bag's size without padding (the mean's divisor).
  std::vector<std::int64_t> bag_size(static_cast<std::size_t>(bags.num_bags));
  for (std::int64_t b = 0; b < bags.num_bags; ++b) {
    bag_size[b] = kernels::bag_count(rows.data(), bags.bounds.data(), b, padding);
  }
  // Each term adds its bag's gradient row, scaled as the bag backward kernels scale it.
  const auto scaled_terms = [&]() -> std::vector<RowTerm>& {
    if (psw == nullptr && !opts.scale_grad_by_freq()) {
      // The scale is the bag's own (1, or 1 / size for the mean): the terms are grouped with
      // their bags directly, and the scale is one division per bag rather than per id (the
      // same arithmetic, so the same bits).
      std::vector<RowTerm>& terms = bag_terms_by_row(rows, bags.bounds, table.size(0), padding);
      std::vector<float> bag_scale(static_cast<std::size_t>(bags.num_bags));
      for (std::int64_t b = 0; b < bags.num_bags; ++b) {
        bag_scale[b] = kernels::bag_grad_scale(1.0, 1, bag_size[b], mean, false);
      }
      for (RowTerm& t : terms) t.scale = bag_scale[t.src];
      return terms;
    }
    // The scale needs the id's position (its weight) and its row's count.
    std::vector<std::int64_t> bag_of(static_cast<std::size_t>(n));
    for (std::int64_t b = 0; b < bags.num_bags; ++b) {
      for (std::int64_t i = bags.bounds[b]; i < bags.bounds[b + 1]; ++i) bag_of[i] = b;
    }
    std::vector<RowTerm>& terms = terms_by_row(rows, table.size(0), padding);
    for_each_run(terms, [&](std::size_t b, std::size_t e) {
      const auto count = static_cast<std::int64_t>(e - b);
      for (std::size_t t = b; t < e; ++t) {
        const std::int64_t i = terms[t].src;
        const std::int64_t bag_index = bag_of[i];
        terms[t].scale =
            kernels::bag_grad_scale(psw != nullptr ? psw[i] : 1.0, count, bag_size[bag_index], mean,
                                    opts.scale_grad_by_freq());
        terms[t].src = bag_index;
      }
    });
    return terms;
  };
  std::vector<RowTerm>& terms = scaled_terms();

  const RowStep update = optimizer.begin_row_step(param_index);
  sum_and_update(grad_output.data<float>(), bags.num_bags, table, terms, optimizer, param_index,
                 update);
}

}  // namespace embedkit::optim
