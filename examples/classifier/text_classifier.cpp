#include "text_classifier.hpp"

#include "embedkit/core/error.hpp"
#include "embedkit/nn/activation.hpp"
#include "embedkit/nn/cross_entropy_loss.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace embedkit::examples {

Batch make_batch(const std::vector<LabelledSentence>& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end, const Vocabulary& vocab) {
  std::vector<std::int64_t> ids, offsets, targets;
  for (std::size_t k = begin; k < end; ++k) {
    const LabelledSentence& s = data[order[k]];
    const std::int64_t label = vocab.label_id(s.label);
    if (label < 0) throw ValueError("label '" + s.label + "' was not seen in training");
    offsets.push_back(static_cast<std::int64_t>(ids.size()));
    for (const std::string& w : s.tokens) ids.push_back(vocab.word_id(w));
    targets.push_back(label);
  }
  return {Tensor::from_vector(ids), Tensor::from_vector(offsets), Tensor::from_vector(targets)};
}

namespace {

std::vector<optim::Parameter> as_parameters(const NamedTensors& named) {
  std::vector<optim::Parameter> out;
  for (const auto& [name, tensor] : named) out.push_back({name, tensor, std::nullopt});
  return out;
}

}  // namespace

TextClassifier::TextClassifier(const TextClassifierOptions& options, Generator& gen)
    : options_(options),
      embedding_(nn::EmbeddingBagOptions(options.vocab_size, options.embedding_dim)
                     .mode(nn::BagMode::Mean),
                 gen) {
  if (options.vocab_size <= 0 || options.num_classes <= 0) {
    throw ValueError("TextClassifier: vocab_size and num_classes must be > 0");
  }
  layers_.push_back(nn::Linear(nn::LinearOptions(options.embedding_dim, options.hidden), gen));
  layers_.push_back(nn::ReLU());
  layers_.push_back(nn::Linear(nn::LinearOptions(options.hidden, options.num_classes), gen));
  std::vector<optim::Parameter> table = {{"embedding.weight", embedding_.weight(), std::nullopt}};
  if (options.optimizer == "adam") {
    table_optimizer_ =
        std::make_unique<optim::SparseAdam>(table, optim::SparseAdamOptions(options.lr));
    layer_optimizer_ = std::make_unique<optim::Adam>(as_parameters(layers_.parameters()),
                                                     optim::AdamOptions(options.lr));
  } else if (options.optimizer == "sgd") {
    table_optimizer_ = std::make_unique<optim::SGD>(table, optim::SGDOptions(options.lr));
    layer_optimizer_ = std::make_unique<optim::SGD>(as_parameters(layers_.parameters()),
                                                    optim::SGDOptions(options.lr));
  } else {
    throw ValueError("TextClassifier: optimizer must be 'adam' or 'sgd', got '" +
                     options.optimizer + "'");
  }
}

Tensor TextClassifier::forward(const Batch& batch) {
  return layers_.forward(embedding_.forward(batch.ids, batch.offsets));
}

float TextClassifier::train_step(const Batch& batch) {
  layers_.train(true);
  const Tensor logits = forward(batch);
  const nn::LossOutput loss = nn::functional::cross_entropy(logits, batch.targets);
  const Tensor grad_pooled = layers_.backward(loss.grad_input);
  layer_optimizer_->step(layers_.weight_grads());
  layers_.zero_grad();
  optim::fused_backward_step(embedding_, batch.ids, batch.offsets, grad_pooled, *table_optimizer_);
  return static_cast<float>(loss.loss.item());
}

double TextClassifier::accuracy(const Batch& batch) {
  layers_.train(false);
  const Tensor logits = forward(batch);
  const std::int64_t b = logits.size(0);
  const std::int64_t c = logits.size(1);
  const float* l = logits.data<float>();
  const std::int64_t* t = batch.targets.data<std::int64_t>();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < b; ++i) {
    std::int64_t best = 0;
    for (std::int64_t k = 1; k < c; ++k) {
      if (l[i * c + k] > l[i * c + best]) best = k;
    }
    correct += best == t[i];
  }
  return b == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(b);
}

}  // namespace embedkit::examples
