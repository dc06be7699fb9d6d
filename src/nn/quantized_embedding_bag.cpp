#include "embedkit/nn/quantized_embedding_bag.hpp"

#include <cstdint>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/error.hpp"
#include "kernels/cpu/quantized_cpu.hpp"
#include "nn/bags.hpp"
#include "nn/embedding_checks.hpp"
#include "nn/ids.hpp"

namespace embedkit::nn {

namespace {

const std::string kWho = "QuantizedEmbeddingBag";

void check_quantized_table(const QuantizedTable& table, const std::string& who) {
  if (!table.defined()) throw ValueError(who + ": the table is undefined");
}

// The float path's options for what the shared bag checks read.
EmbeddingBagFuncOptions bag_check_options(const QuantizedEmbeddingBagFuncOptions& options) {
  return EmbeddingBagFuncOptions()
      .mode(options.mode())
      .include_last_offset(options.include_last_offset())
      .padding_idx(options.padding_idx())
      .unknown_ids(options.unknown_ids());
}

template <class I>
void run_bags(const QuantizedTable& table, const Tensor& rows, const std::int64_t* bounds,
              std::int64_t num_bags, BagMode mode, const float* per_sample_weights,
              std::int64_t padding_idx, float* out) {
  kernels::cpu::quantized_bag_forward(table.data(), table.row_bytes(), table.embedding_dim(),
                                      table.format(), rows.data<I>(), bounds, num_bags, mode,
                                      per_sample_weights, padding_idx, out, table.num_embeddings());
}

}  // namespace

namespace functional {

Tensor quantized_embedding_bag(const Tensor& ids, const QuantizedTable& table,
                               const Tensor& offsets,
                               const QuantizedEmbeddingBagFuncOptions& options,
                               const Tensor& per_sample_weights) {
  const std::string who = "quantized_embedding_bag";
  // The order of EmbeddingBag's checks (check_bag_arguments), with the table's own first.
  check_quantized_table(table, who);
  detail::check_ids_dtype(ids.desc(), "ids");
  if (options.mode() == BagMode::Max) {
    throw ValueError(who + ": max mode is not supported on quantized tables (sum or mean)");
  }
  const std::int64_t padding =
      detail::normalize_padding_idx(options.padding_idx(), table.num_embeddings(), who);
  detail::Bags bags =
      detail::prepare_bags_for_rows(ids, offsets, per_sample_weights, table.num_embeddings(),
                                    DType::Float32, bag_check_options(options), who);
  Tensor out = Tensor::empty({bags.num_bags, table.embedding_dim()}, DType::Float32);
  const float* psw =
      bags.per_sample_weights.defined() ? bags.per_sample_weights.data<float>() : nullptr;
  if (bags.rows.dtype() == DType::Int32) {
    run_bags<std::int32_t>(table, bags.rows, bags.bounds.data(), bags.num_bags, options.mode(), psw,
                           padding, out.data<float>());
  } else {
    run_bags<std::int64_t>(table, bags.rows, bags.bounds.data(), bags.num_bags, options.mode(), psw,
                           padding, out.data<float>());
  }
  return out;
}

Tensor quantized_embedding(const Tensor& ids, const QuantizedTable& table,
                           const QuantizedEmbeddingFuncOptions& options) {
  const std::string who = "quantized_embedding";
  check_quantized_table(table, who);
  detail::check_ids_dtype(ids.desc(), "ids");
  detail::check_unknown_ids(options.unknown_ids(), table.num_embeddings(), who);
  const std::int64_t n = ids.numel();
  Tensor rows =
      detail::resolve_ids(ids, table.num_embeddings(), options.unknown_ids(), "ids").reshape({n});
  Shape shape = ids.shape();
  shape.push_back(table.embedding_dim());
  Tensor out = Tensor::empty(shape, DType::Float32);
  // Each id a bag of one: bounds 0, 1, ..., n.
  std::vector<std::int64_t> bounds(static_cast<std::size_t>(n) + 1);
  std::iota(bounds.begin(), bounds.end(), std::int64_t{0});
  if (rows.dtype() == DType::Int32) {
    run_bags<std::int32_t>(table, rows, bounds.data(), n, BagMode::Sum, nullptr, -1,
                           out.data<float>());
  } else {
    run_bags<std::int64_t>(table, rows, bounds.data(), n, BagMode::Sum, nullptr, -1,
                           out.data<float>());
  }
  return out;
}

}  // namespace functional

QuantizedEmbeddingBag::QuantizedEmbeddingBag(QuantizedTable table,
                                             const QuantizedEmbeddingBagOptions& options)
    : table_(std::move(table)), options_(options) {
  check_quantized_table(table_, kWho);
  if (options_.mode() == BagMode::Max) {
    throw ValueError(kWho + ": max mode is not supported on quantized tables (sum or mean)");
  }
  if (options_.padding_idx()) {
    options_.padding_idx(
        detail::normalize_padding_idx(options_.padding_idx(), table_.num_embeddings(), kWho));
  }
  detail::check_unknown_ids(options_.unknown_ids(), table_.num_embeddings(), kWho);
}

QuantizedEmbeddingBag QuantizedEmbeddingBag::from_float(
    const Tensor& weight, QuantizedFormat format, const QuantizedEmbeddingBagOptions& options) {
  return QuantizedEmbeddingBag(quantize(weight, format), options);
}

Tensor QuantizedEmbeddingBag::forward(const Tensor& ids, const Tensor& offsets,
                                      const Tensor& per_sample_weights) const {
  return functional::quantized_embedding_bag(ids, table_, offsets, options_, per_sample_weights);
}

std::string QuantizedEmbeddingBag::repr() const {
  std::string s =
      "QuantizedEmbeddingBag(num_embeddings=" + std::to_string(table_.num_embeddings()) +
      ", embedding_dim=" + std::to_string(table_.embedding_dim()) +
      ", format=" + quantized_format_name(table_.format()) +
      ", mode=" + bag_mode_name(options_.mode());
  if (options_.padding_idx()) s += ", padding_idx=" + std::to_string(*options_.padding_idx());
  return s + ")";
}

}  // namespace embedkit::nn
