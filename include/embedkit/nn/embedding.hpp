// nn.Embedding: a table of num_embeddings vectors of size embedding_dim, looked up by id.
//
// Semantics are PyTorch's (torch.nn.Embedding / F.embedding), option for option; the
// differences, all on the side of safety, are listed in docs/conformance.md. Ids are checked
// before anything is written: a bad id raises IndexError and leaves the table unchanged.
//
// Embedding is a Module (module.hpp): named_parameters() is {"weight"}, and
// optim::make_parameters(embedding) gives an optimizer the table with its padding row. Its
// forward takes ids and its backward returns the table's gradient, so it is not a Layer and
// does not accumulate gradients. A copy shares the table (module.hpp says what else).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/module.hpp"
#include "embedkit/nn/unknown_ids.hpp"
#include "embedkit/nn/weight_grad.hpp"

namespace embedkit::nn {

// Options shared by the functional and module forms.
struct EmbeddingFuncOptions {
  // Row whose gradient is always zero. Negative values count from the end.
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  // Rows looked up with a norm above max_norm are rescaled in place to max_norm / (norm + 1e-7).
  EMBEDKIT_ARG(std::optional<double>, max_norm);
  // The p of the p-norm used for max_norm (> 0, or infinity).
  EMBEDKIT_ARG(double, norm_type) = 2.0;
  // Divide each row's gradient by the number of times the batch used it.
  EMBEDKIT_ARG(bool, scale_grad_by_freq) = false;
  // backward() returns a row-sparse gradient.
  EMBEDKIT_ARG(bool, sparse) = false;
  // What out-of-range ids do (default: IndexError).
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

struct EmbeddingOptions {
  EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}

  EMBEDKIT_ARG(std::int64_t, num_embeddings);
  EMBEDKIT_ARG(std::int64_t, embedding_dim);
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  EMBEDKIT_ARG(std::optional<double>, max_norm);
  EMBEDKIT_ARG(double, norm_type) = 2.0;
  EMBEDKIT_ARG(bool, scale_grad_by_freq) = false;
  EMBEDKIT_ARG(bool, sparse) = false;
  // A caller-given table of shape [num_embeddings, embedding_dim]: used as is (shared, not
  // copied, not re-initialised, padding row not zeroed), as PyTorch's _weight.
  EMBEDKIT_ARG(Tensor, weight);
  // Element type of a table the module creates.
  EMBEDKIT_ARG(DType, dtype) = DType::Float32;
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

struct EmbeddingFromPretrainedOptions {
  // Frozen tables have no gradient: backward() raises ValueError.
  EMBEDKIT_ARG(bool, freeze) = true;
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  EMBEDKIT_ARG(std::optional<double>, max_norm);
  EMBEDKIT_ARG(double, norm_type) = 2.0;
  EMBEDKIT_ARG(bool, scale_grad_by_freq) = false;
  EMBEDKIT_ARG(bool, sparse) = false;
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

namespace functional {

// out = weight[ids], shape ids.shape + [D]. With max_norm, the referenced rows of `weight` are
// renormalised in place first (after every id has been validated).
Tensor embedding(const Tensor& ids, Tensor& weight, const EmbeddingFuncOptions& options = {});

// embedding() into a caller's tensor `out` (shape ids.shape + [D], the table's dtype, not
// overlapping the table or the ids). With the default unknown-id policy it allocates nothing
// (PyTorch: torch.index_select(weight, 0, ids, out=out)). Everything is checked before anything
// is written.
void embedding_into(const Tensor& ids, Tensor& weight, Tensor& out,
                    const EmbeddingFuncOptions& options = {});

// Gradient of the table given the gradient of embedding()'s output.
WeightGrad embedding_backward(const Tensor& ids, const Tensor& grad_output,
                              std::int64_t num_embeddings,
                              const EmbeddingFuncOptions& options = {});

}  // namespace functional

class Embedding : public Module {
 public:
  // Creates a table drawn from N(0, 1) with the default generator (manual_seed() seeds it),
  // or adopts options.weight().
  explicit Embedding(const EmbeddingOptions& options);
  // Creates the table drawn from `gen`.
  Embedding(const EmbeddingOptions& options, Generator& gen);

  // A table over `embeddings` (2-D, shared, not copied), frozen unless options.freeze(false).
  static Embedding from_pretrained(const Tensor& embeddings,
                                   const EmbeddingFromPretrainedOptions& options = {});

  // Redraws the table from N(0, 1) and zeroes the padding row.
  void reset_parameters();
  void reset_parameters(Generator& gen);

  Tensor forward(const Tensor& ids);
  WeightGrad backward(const Tensor& ids, const Tensor& grad_output) const;

  Tensor& weight() { return weight_; }
  const Tensor& weight() const { return weight_; }
  const EmbeddingOptions& options() const { return options_; }
  // False for a frozen pretrained table.
  bool requires_grad() const { return requires_grad_; }
  void set_requires_grad(bool value) { requires_grad_ = value; }
  // {"weight", the table}.
  NamedTensors named_parameters() const override;
  // The padding row of "weight", when padding_idx is set.
  std::optional<std::int64_t> padding_row(const std::string& name) const override;
  // PyTorch's repr, e.g. "Embedding(10, 3, padding_idx=0)".
  std::string repr() const override;

 private:
  Embedding(const EmbeddingOptions& options, Generator* gen);  // gen null: default generator
  void reset_with(Generator* gen);
  EmbeddingFuncOptions func_options() const;

  EmbeddingOptions options_;
  Tensor weight_;
  bool requires_grad_ = true;
};

}  // namespace embedkit::nn
