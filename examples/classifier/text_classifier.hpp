// The textbook embedding classifier: the mean of a sentence's word vectors (EmbeddingBag, mean)
// -> Linear -> ReLU -> Linear -> cross entropy. Built only from embedkit's parts; the table is
// trained through the fused backward + optimizer step, so its gradient never exists in full.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/sequential.hpp"
#include "embedkit/optim/optimizer.hpp"
#include "vocabulary.hpp"

namespace embedkit::examples {

// A batch of sentences as EmbeddingBag input: 1-D word ids, offsets, and class targets.
struct Batch {
  Tensor ids;      // int64 [total words]
  Tensor offsets;  // int64 [B]
  Tensor targets;  // int64 [B]
};

// Sentences [begin, end) of `order` (indices into `data`) as a batch; labels the vocabulary has
// never seen raise ValueError naming them.
Batch make_batch(const std::vector<LabelledSentence>& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end, const Vocabulary& vocab);

struct TextClassifierOptions {
  std::int64_t vocab_size = 0;
  std::int64_t num_classes = 0;
  std::int64_t embedding_dim = 64;
  std::int64_t hidden = 64;
  // "adam": SparseAdam (fused) for the table, Adam for the layers; "sgd": SGD for both.
  std::string optimizer = "adam";
  double lr = 1e-3;
};

class TextClassifier {
 public:
  TextClassifier(const TextClassifierOptions& options, Generator& gen);

  // Logits [B, num_classes].
  Tensor forward(const Batch& batch);
  // One optimisation step on the batch; returns the mean cross-entropy before the update.
  float train_step(const Batch& batch);
  // Share of the batch whose arg-max logit is the target.
  double accuracy(const Batch& batch);

  nn::EmbeddingBag& embedding() { return embedding_; }
  nn::Sequential& layers() { return layers_; }
  const TextClassifierOptions& options() const { return options_; }

 private:
  TextClassifierOptions options_;
  nn::EmbeddingBag embedding_;
  nn::Sequential layers_;
  std::unique_ptr<optim::Optimizer> table_optimizer_;
  std::unique_ptr<optim::Optimizer> layer_optimizer_;
};

}  // namespace embedkit::examples
