// nn.EmbeddingBag: looks up bags of ids and reduces each bag (sum, mean or max) to one vector,
// without materialising the per-id rows.
//
// Bags are given as a 2-D ids tensor [B, L] (B bags of L ids), or as 1-D ids with offsets
// (bag b = ids[offsets[b] : offsets[b+1]]; with include_last_offset the last offset closes the
// last bag and must equal ids.numel()). Semantics are PyTorch's (torch.nn.EmbeddingBag /
// F.embedding_bag); differences, all on the side of safety, are in docs/conformance.md.
//
// EmbeddingBag is a Module (module.hpp), as Embedding is (embedding.hpp): named_parameters() is
// {"weight"}; a copy shares the table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/module.hpp"
#include "embedkit/nn/unknown_ids.hpp"
#include "embedkit/nn/weight_grad.hpp"

namespace embedkit::nn {

// The reduction (embedkit/core/bag_mode.hpp, where the kernels see it too) and its name.
using embedkit::bag_mode_name;
using embedkit::BagMode;

struct EmbeddingBagFuncOptions {
  EMBEDKIT_ARG(BagMode, mode) = BagMode::Mean;
  EMBEDKIT_ARG(std::optional<double>, max_norm);
  EMBEDKIT_ARG(double, norm_type) = 2.0;
  EMBEDKIT_ARG(bool, scale_grad_by_freq) = false;
  EMBEDKIT_ARG(bool, sparse) = false;
  EMBEDKIT_ARG(bool, include_last_offset) = false;
  // Ids equal to padding_idx are left out of their bag (not counted by mean).
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

struct EmbeddingBagOptions {
  EmbeddingBagOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}

  EMBEDKIT_ARG(std::int64_t, num_embeddings);
  EMBEDKIT_ARG(std::int64_t, embedding_dim);
  EMBEDKIT_ARG(std::optional<double>, max_norm);
  EMBEDKIT_ARG(double, norm_type) = 2.0;
  EMBEDKIT_ARG(bool, scale_grad_by_freq) = false;
  EMBEDKIT_ARG(BagMode, mode) = BagMode::Mean;
  EMBEDKIT_ARG(bool, sparse) = false;
  // A caller-given table, shared and used as is (PyTorch's _weight).
  EMBEDKIT_ARG(Tensor, weight);
  EMBEDKIT_ARG(bool, include_last_offset) = false;
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  EMBEDKIT_ARG(DType, dtype) = DType::Float32;
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

struct EmbeddingBagFromPretrainedOptions {
  EMBEDKIT_ARG(bool, freeze) = true;
  EMBEDKIT_ARG(std::optional<double>, max_norm);
  EMBEDKIT_ARG(double, norm_type) = 2.0;
  EMBEDKIT_ARG(bool, scale_grad_by_freq) = false;
  EMBEDKIT_ARG(BagMode, mode) = BagMode::Mean;
  EMBEDKIT_ARG(bool, sparse) = false;
  EMBEDKIT_ARG(bool, include_last_offset) = false;
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

// Gradients of embedding_bag(): the table's, and the per-sample weights' when they were given
// (same shape as the ids; zero at padding positions).
struct EmbeddingBagGrad {
  WeightGrad weight;
  Tensor per_sample_weights;
};

namespace functional {

// Output [B, D] in the table's dtype. `offsets` must be given with 1-D ids and must not be
// given with 2-D ids. `per_sample_weights` (mode sum only) has the ids' shape and the table's
// dtype. With max_norm, referenced rows are renormalised in place after all input is validated.
Tensor embedding_bag(const Tensor& ids, Tensor& weight, const Tensor& offsets = Tensor(),
                     const EmbeddingBagFuncOptions& options = {},
                     const Tensor& per_sample_weights = Tensor());

// embedding_bag() into a caller's tensor `out` ([B, D], the table's dtype, not overlapping any
// input): no output allocation (the bag bounds are still gathered into a small vector of B + 1
// offsets). Everything is checked before anything is written.
void embedding_bag_into(const Tensor& ids, Tensor& weight, const Tensor& offsets, Tensor& out,
                        const EmbeddingBagFuncOptions& options = {},
                        const Tensor& per_sample_weights = Tensor());

// Gradients given the gradient of the output. Reads the table (max mode recomputes each bag's
// arg-max; per-sample-weight gradients need the rows), so call it before the table changes.
EmbeddingBagGrad embedding_bag_backward(const Tensor& ids, const Tensor& weight,
                                        const Tensor& offsets, const Tensor& grad_output,
                                        const EmbeddingBagFuncOptions& options = {},
                                        const Tensor& per_sample_weights = Tensor());

}  // namespace functional

class EmbeddingBag : public Module {
 public:
  explicit EmbeddingBag(const EmbeddingBagOptions& options);
  EmbeddingBag(const EmbeddingBagOptions& options, Generator& gen);
  static EmbeddingBag from_pretrained(const Tensor& embeddings,
                                      const EmbeddingBagFromPretrainedOptions& options = {});

  void reset_parameters();
  void reset_parameters(Generator& gen);

  Tensor forward(const Tensor& ids, const Tensor& offsets = Tensor(),
                 const Tensor& per_sample_weights = Tensor());
  EmbeddingBagGrad backward(const Tensor& ids, const Tensor& offsets, const Tensor& grad_output,
                            const Tensor& per_sample_weights = Tensor()) const;

  Tensor& weight() { return weight_; }
  const Tensor& weight() const { return weight_; }
  const EmbeddingBagOptions& options() const { return options_; }
  bool requires_grad() const { return requires_grad_; }
  void set_requires_grad(bool value) { requires_grad_ = value; }
  // {"weight", the table}.
  NamedTensors named_parameters() const override;
  // The padding row of "weight", when padding_idx is set.
  std::optional<std::int64_t> padding_row(const std::string& name) const override;
  std::string repr() const override;

 private:
  EmbeddingBag(const EmbeddingBagOptions& options, Generator* gen);  // null: default generator
  void reset_with(Generator* gen);
  EmbeddingBagFuncOptions func_options() const;

  EmbeddingBagOptions options_;
  Tensor weight_;
  bool requires_grad_ = true;
};

}  // namespace embedkit::nn
