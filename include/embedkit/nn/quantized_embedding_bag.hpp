// Lookups and bags straight on a row-wise quantized table (nn/quantized_table.hpp): PyTorch's
// torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_rowwise_offsets and embedding_byte, and
// the module torch.ao.nn.quantized.EmbeddingBag, with embedkit's checks.
//
// Bags are given as for nn::EmbeddingBag (2-D ids, or 1-D ids with offsets, include_last_offset),
// with the same checks and messages (src/nn/embedding_checks). The output is float32 [B, D].
// Per bag and column: acc = fma(w * scale, code, acc + w * bias) for each id in order (w: the
// per-sample weight or 1), PyTorch's arithmetic (kernels/ref/quantized_ref.hpp). Beyond
// PyTorch's quantized ops, which only sum: mode mean (the sum divided by the count, as
// EmbeddingBag's mean) and padding_idx (those ids are left out, and not counted by mean).
// Max mode is refused: the quantized ops have none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "embedkit/core/arg.hpp"
#include "embedkit/core/bag_mode.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/module.hpp"
#include "embedkit/nn/quantized_table.hpp"
#include "embedkit/nn/unknown_ids.hpp"

namespace embedkit::nn {

struct QuantizedEmbeddingBagFuncOptions {
  // Sum by default, as PyTorch's quantized EmbeddingBag; or mean.
  EMBEDKIT_ARG(BagMode, mode) = BagMode::Sum;
  EMBEDKIT_ARG(bool, include_last_offset) = false;
  // Ids equal to padding_idx are left out of their bag (not counted by mean).
  EMBEDKIT_ARG(std::optional<std::int64_t>, padding_idx);
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

struct QuantizedEmbeddingFuncOptions {
  EMBEDKIT_ARG(UnknownIds, unknown_ids) = UnknownIds::error();
};

using QuantizedEmbeddingBagOptions = QuantizedEmbeddingBagFuncOptions;

namespace functional {

// Output float32 [B, D]. `per_sample_weights` (mode sum only): float32, the ids' shape.
Tensor quantized_embedding_bag(const Tensor& ids, const QuantizedTable& table,
                               const Tensor& offsets = Tensor(),
                               const QuantizedEmbeddingBagFuncOptions& options = {},
                               const Tensor& per_sample_weights = Tensor());

// The rows of the ids, float32 of shape ids.shape + [D]: each a bag of one id, so the values
// are fma(scale, code, bias), as PyTorch's quantized::embedding_byte computes them.
Tensor quantized_embedding(const Tensor& ids, const QuantizedTable& table,
                           const QuantizedEmbeddingFuncOptions& options = {});

}  // namespace functional

// A quantized, inference-only EmbeddingBag over a shared QuantizedTable. It has no parameters
// (named_parameters() is empty): the table is not trained.
class QuantizedEmbeddingBag : public Module {
 public:
  explicit QuantizedEmbeddingBag(QuantizedTable table,
                                 const QuantizedEmbeddingBagOptions& options = {});
  // Quantizes a float table (quantize()), as PyTorch's EmbeddingBag.from_float.
  static QuantizedEmbeddingBag from_float(const Tensor& weight, QuantizedFormat format,
                                          const QuantizedEmbeddingBagOptions& options = {});

  Tensor forward(const Tensor& ids, const Tensor& offsets = Tensor(),
                 const Tensor& per_sample_weights = Tensor()) const;

  const QuantizedTable& table() const { return table_; }
  const QuantizedEmbeddingBagOptions& options() const { return options_; }
  // "QuantizedEmbeddingBag(num_embeddings=N, embedding_dim=D, format=int8, mode=sum)".
  std::string repr() const override;

 private:
  QuantizedTable table_;
  QuantizedEmbeddingBagOptions options_;
};

}  // namespace embedkit::nn
