// Positional embeddings: a vector per position 0..max_len-1, added to a sequence of token
// vectors so that a model that pools or attends can tell the positions apart.
//
//   Embedding tokens(EmbeddingOptions(vocab, d));
//   SinusoidalPositionalEmbedding pos(max_len, d);      // or LearnedPositionalEmbedding
//   Tensor x = pos.forward(tokens.forward(ids));        // ids [B, L] -> [B, L, d]
//
// Both are Layers (layer.hpp) over x [..., L, d] (any leading dimensions): forward(x) = x + P[0:L],
// broadcast over the leading dimensions, and backward(g) = g. forward(length) returns the rows
// P[0:length] themselves, [length, d]. A sequence longer than max_len is a ValueError, raised
// before anything is computed. A copy of a LearnedPositionalEmbedding shares its table
// (module.hpp says what a copy shares).
#pragma once

#include <cstdint>
#include <string>

#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/layer.hpp"

namespace embedkit::nn {

// Learned positions: an nn::Embedding(max_len, d) looked up with ids 0..L-1 (so initialised from
// N(0, 1) as nn.Embedding is). Its one parameter is named "weight", as a subclass of
// nn.Embedding (fairseq's LearnedPositionalEmbedding) names it; backward() adds to its gradient
// the sum of g over the leading dimensions, row by row (Embedding::backward's dense gradient).
class LearnedPositionalEmbedding : public Layer {
 public:
  LearnedPositionalEmbedding(std::int64_t max_len, std::int64_t dim);
  LearnedPositionalEmbedding(std::int64_t max_len, std::int64_t dim, Generator& gen);

  Tensor forward(std::int64_t length) const;
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  NamedTensors named_parameters() const override;
  NamedTensors gradients() const override;
  void zero_grad(bool set_to_none = false) override;
  std::string repr() const override;

  Embedding& embedding() { return embedding_; }
  const Embedding& embedding() const { return embedding_; }
  Tensor& weight() { return embedding_.weight(); }
  const Tensor& weight() const { return embedding_.weight(); }
  std::int64_t max_len() const { return embedding_.weight().size(0); }
  std::int64_t dim() const { return embedding_.weight().size(1); }

 private:
  Embedding embedding_;
  Tensor weight_grad_;
  Tensor position_ids_;  // [..., L] of the latest forward(), for backward()
};

// Fixed positions ("Attention Is All You Need", section 3.5), no parameters:
//   PE[pos, 2i]     = sin(pos / 10000^(2i / d))
//   PE[pos, 2i + 1] = cos(pos / 10000^(2i / d))
// computed in double and rounded once to float32 (PyTorch's usual recipe in float32 loses up
// to ~1e-3 at position 5000). An odd d ends with a sine column.
class SinusoidalPositionalEmbedding : public Layer {
 public:
  SinusoidalPositionalEmbedding(std::int64_t max_len, std::int64_t dim);

  // The [max_len, dim] table on its own.
  static Tensor make_table(std::int64_t max_len, std::int64_t dim);

  Tensor forward(std::int64_t length) const;
  Tensor forward(const Tensor& input) override;
  Tensor backward(const Tensor& grad_output) override;
  std::string repr() const override;

  // The whole [max_len, dim] table.
  const Tensor& table() const { return table_; }
  std::int64_t max_len() const { return table_.size(0); }
  std::int64_t dim() const { return table_.size(1); }

 private:
  Tensor table_;
  Shape shape_;  // of the latest forward()'s input
  bool forward_done_ = false;
};

}  // namespace embedkit::nn
