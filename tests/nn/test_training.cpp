// The layers in a training loop, wired to an optimizer the way an application will: parameters()
// become optim::Parameters (shared storage), weight_grads() feeds Optimizer::step. A small MLP
// learns three separable Gaussian clusters.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "embedkit/nn/activation.hpp"
#include "embedkit/nn/cross_entropy_loss.hpp"
#include "embedkit/nn/dropout.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/nn/sequential.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/sgd.hpp"
#include "layer_test_support.hpp"

namespace embedkit::nn {
namespace {

TEST(Training, MlpLearnsSeparableClusters) {
  Generator gen(61);
  const std::int64_t per_class = 30, classes = 3, n = per_class * classes;
  const float centers[3][2] = {{2.0f, 0.0f}, {-1.0f, 1.7f}, {-1.0f, -1.7f}};
  Tensor x = Tensor::empty({n, 2});
  Tensor y = Tensor::empty({n}, DType::Int64);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = i % classes;
    for (int d = 0; d < 2; ++d) {
      x.data<float>()[i * 2 + d] = centers[c][d] + 0.3f * static_cast<float>(gen.normal());
    }
    y.data<std::int64_t>()[i] = c;
  }
  Sequential model(Linear(LinearOptions(2, 16), gen), Tanh(), Dropout(0.1, gen),
                   Linear(LinearOptions(16, classes), gen));
  optim::SGD sgd(optim::make_parameters(model), optim::SGDOptions(0.3).momentum(0.9));

  double first_loss = 0;
  for (int step = 0; step < 150; ++step) {
    model.zero_grad();
    const LossOutput out = functional::cross_entropy(model.forward(x), y);
    if (step == 0) first_loss = out.loss.item();
    model.backward(out.grad_input);
    sgd.step(model.weight_grads());
  }
  EXPECT_NEAR(first_loss, std::log(3.0), 0.5);  // an untrained model guesses

  model.eval();
  const Tensor logits = model.forward(x);
  EXPECT_LT(functional::cross_entropy(logits, y).loss.item(), 0.05);
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < classes; ++c) {
      if (logits.item_at(i * classes + c) > logits.item_at(i * classes + best)) best = c;
    }
    correct += best == y.data<std::int64_t>()[i] ? 1 : 0;
  }
  EXPECT_EQ(correct, n);
}

}  // namespace
}  // namespace embedkit::nn
