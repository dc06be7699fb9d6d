// Layers against LibTorch 1.13: Linear, ReLU, Tanh, Sigmoid, LogSoftmax, Dropout (with
// embedkit's mask replayed in torch), positional embeddings, and Sequential(Linear, ReLU,
// Linear) + CrossEntropy end to end against torch::nn::Sequential with copied weights, through
// several SGD steps.
//
// Tolerances (layer_test_support.hpp): ReLU and Dropout are bitwise, and so are the Tanh and
// Sigmoid backward formulas given the same forward output. Matrix products (PyTorch uses BLAS)
// are close() with rtol 1e-6 against the sum of the absolute products (|x| |W|^T), the bound
// on float32 summation error. Transcendentals (tanh, exp, log: the C library here, SLEEF in
// PyTorch) are close() with rtol 1e-6 against the tensor's max |ref|; sigmoid's outputs near 0
// are denormal, judged against 1e-30.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "embedkit/nn/activation.hpp"
#include "embedkit/nn/cross_entropy_loss.hpp"
#include "embedkit/nn/dropout.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/nn/positional.hpp"
#include "embedkit/nn/sequential.hpp"
#include "layer_test_support.hpp"
#include "support/torch_bridge.hpp"

namespace embedkit::nn {
namespace {

using embedkit_test::from_torch;
using embedkit_test::leaf;
using embedkit_test::to_torch;
using layers_test::bitwise_equal;
using layers_test::close;
using layers_test::max_abs;
using layers_test::randn;

constexpr double kRtol = 1e-6;

// The summation-error scale of a product a * b^T: |a| |b|^T.
Tensor abs_product_t(const at::Tensor& a, const at::Tensor& b) {
  return from_torch(at::matmul(a.abs(), b.abs().t()));
}

TEST(LayersVsTorch, Linear) {
  Generator gen(201);
  struct Case {
    Shape input;
    std::int64_t out;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{0, 4}, 3, true},     {{1, 1}, 1, true},      {{1, 7}, 5, false},   {{5, 13}, 9, true},
      {{64, 300}, 10, true}, {{33, 64}, 257, false}, {{2, 3, 8}, 6, true}, {{9}, 4, true},
  };
  for (const Case& c : cases) {
    const std::int64_t in = c.input.back();
    SCOPED_TRACE(testing::Message()
                 << shape_string(c.input) << " -> " << c.out << " bias=" << c.bias);
    Linear ours(LinearOptions(in, c.out).bias(c.bias), gen);
    torch::nn::Linear theirs(torch::nn::LinearOptions(in, c.out).bias(c.bias));
    {
      torch::NoGradGuard no_grad;
      theirs->weight.copy_(to_torch(ours.weight()));
      if (c.bias) theirs->bias.copy_(to_torch(ours.bias()));
    }
    Tensor x = randn(c.input, gen);
    Shape out_shape = c.input;
    out_shape.back() = c.out;
    Tensor gy = randn(out_shape, gen);

    at::Tensor tx = leaf(x);
    at::Tensor ty = theirs->forward(tx);
    ty.backward(to_torch(gy));
    Tensor y = ours.forward(x);
    Tensor gx = ours.backward(gy);

    // Scales: |x| |W|^T (+ |b|) for y, |gy| |W| for gx, |gy|^T |x| for gW, sum |gy| for gb.
    const at::Tensor x2 = to_torch(x).reshape({-1, in});
    const at::Tensor g2 = to_torch(gy).reshape({-1, c.out});
    const at::Tensor w = to_torch(ours.weight());
    at::Tensor y_scale = at::matmul(x2.abs(), w.abs().t());
    if (c.bias) y_scale = y_scale + to_torch(ours.bias()).abs();
    EXPECT_TRUE(close(y, from_torch(ty.detach()), kRtol, from_torch(y_scale.reshape(ty.sizes()))));
    EXPECT_TRUE(close(gx, from_torch(tx.grad()), kRtol,
                      from_torch(at::matmul(g2.abs(), w.abs()).reshape(tx.sizes()))));
    EXPECT_TRUE(close(ours.gradients()[0].second, from_torch(theirs->weight.grad()), kRtol,
                      abs_product_t(g2.t(), x2.t())));
    if (c.bias) {
      EXPECT_TRUE(close(ours.gradients()[1].second, from_torch(theirs->bias.grad()), kRtol,
                        from_torch(g2.abs().sum(0))));
    }
  }
}

// Values that exercise every branch of the activations: signed zeros, NaN, infinities, +-100.
Tensor edge_values(Generator& gen) {
  Tensor x = randn({4, 25}, gen, 3.0);
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> specials = {0.0f,  -0.0f,  std::nanf(""), inf,   -inf,
                                       100.f, -100.f, 20.f,          -20.f, 1e-30f};
  for (std::size_t i = 0; i < specials.size(); ++i) x.data<float>()[i * 7] = specials[i];
  return x;
}

TEST(LayersVsTorch, ReluIsBitwise) {
  Generator gen(202);
  Tensor x = edge_values(gen);
  Tensor gy = randn(x.shape(), gen);
  ReLU relu;
  Tensor y = relu.forward(x);
  Tensor gx = relu.backward(gy);
  at::Tensor tx = leaf(x);
  at::Tensor ty = torch::nn::ReLU()->forward(tx);
  ty.backward(to_torch(gy));
  EXPECT_TRUE(bitwise_equal(y, from_torch(ty.detach())));
  EXPECT_TRUE(bitwise_equal(gx, from_torch(tx.grad())));
  // Signed zeros too: relu(-0) is -0 in both.
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    ASSERT_EQ(std::signbit(y.data<float>()[i]), std::signbit(ty.data_ptr<float>()[i])) << i;
  }
}

TEST(LayersVsTorch, TanhAndSigmoid) {
  Generator gen(203);
  Tensor x = edge_values(gen);
  Tensor gy = randn(x.shape(), gen);
  {
    SCOPED_TRACE("Tanh");
    Tanh tanh;
    Tensor y = tanh.forward(x);
    Tensor gx = tanh.backward(gy);
    at::Tensor tx = leaf(x);
    at::Tensor ty = torch::nn::Tanh()->forward(tx);
    ty.backward(to_torch(gy));
    EXPECT_TRUE(close(y, from_torch(ty.detach()), kRtol, 1e-30));
    EXPECT_TRUE(close(gx, from_torch(tx.grad()), kRtol, max_abs(from_torch(tx.grad()))));
    // The backward formula itself, from the same output. PyTorch's AVX2 and AVX-512 kernels
    // round 1 - y * y once (fused multiply-add), as embedkit does: bitwise. Its default kernel
    // (CPUs without AVX2, or ATEN_CPU_CAPABILITY=default) rounds twice; then it must equal
    // that unfused formula exactly, and embedkit is within rtol of it against max |dy|.
    const Tensor ref = from_torch(at::tanh_backward(to_torch(gy), to_torch(y)));
    Tensor unfused = Tensor::empty(y.shape());
    for (std::int64_t i = 0; i < y.numel(); ++i) {
      const float yi = y.data<float>()[i];
      unfused.data<float>()[i] = gy.data<float>()[i] * (1.0f - yi * yi);
    }
    EXPECT_TRUE(bitwise_equal(gx, ref) || bitwise_equal(unfused, ref));
    EXPECT_TRUE(close(gx, ref, kRtol, max_abs(gy)));
  }
  {
    SCOPED_TRACE("Sigmoid");
    Sigmoid sigmoid;
    Tensor y = sigmoid.forward(x);
    Tensor gx = sigmoid.backward(gy);
    at::Tensor tx = leaf(x);
    at::Tensor ty = torch::nn::Sigmoid()->forward(tx);
    ty.backward(to_torch(gy));
    EXPECT_TRUE(close(y, from_torch(ty.detach()), kRtol, 1e-30));
    EXPECT_TRUE(close(gx, from_torch(tx.grad()), kRtol, max_abs(from_torch(tx.grad()))));
    EXPECT_TRUE(bitwise_equal(gx, from_torch(at::sigmoid_backward(to_torch(gy), to_torch(y)))));
  }
}

TEST(LayersVsTorch, LogSoftmax) {
  Generator gen(204);
  for (const Shape& shape : std::vector<Shape>{{0, 3}, {1, 1}, {5, 7}, {2, 3, 40}, {6}}) {
    for (double scale : {1.0, 30.0, 1000.0}) {
      SCOPED_TRACE(testing::Message() << shape_string(shape) << " scale " << scale);
      Tensor x = randn(shape, gen, scale);
      Tensor gy = randn(shape, gen);
      LogSoftmax module;
      Tensor y = module.forward(x);
      Tensor gx = module.backward(gy);
      at::Tensor tx = leaf(x);
      at::Tensor ty = torch::nn::LogSoftmax(-1)->forward(tx);
      ty.backward(to_torch(gy));
      const Tensor ref_y = from_torch(ty.detach());
      const Tensor ref_g = from_torch(tx.grad());
      EXPECT_TRUE(close(y, ref_y, kRtol, max_abs(ref_y)));
      EXPECT_TRUE(close(gx, ref_g, kRtol, max_abs(ref_g)));
      Tensor p = functional::softmax(x);
      const Tensor ref_p = from_torch(at::softmax(to_torch(x), -1));
      EXPECT_TRUE(close(p, ref_p, kRtol, 1e-30));
    }
  }
}

TEST(LayersVsTorch, DropoutArithmeticWithTheSameMaskIsBitwise) {
  Generator gen(205);
  for (double p : {0.1, 0.5, 1.0 / 3.0, 0.9}) {
    SCOPED_TRACE(p);
    Dropout dropout(p, gen);
    Tensor x = edge_values(gen);
    Tensor gy = randn(x.shape(), gen);
    Tensor y = dropout.forward(x);
    Tensor gx = dropout.backward(gy);
    // ATen's CPU dropout with embedkit's mask: noise = bernoulli(1 - p).div_(1 - p), x * noise.
    const at::Tensor mask = to_torch(dropout.noise()) != 0;
    const at::Tensor noise = mask.to(at::kFloat).div_(1 - p);
    at::Tensor tx = leaf(x);
    at::Tensor ty = tx * noise;
    ty.backward(to_torch(gy));
    EXPECT_TRUE(bitwise_equal(y, from_torch(ty.detach())));
    EXPECT_TRUE(bitwise_equal(gx, from_torch(tx.grad())));
  }
  // p = 1 and evaluation mode are deterministic in PyTorch too: compare directly.
  Tensor x = edge_values(gen);
  Dropout all(1.0, gen);
  EXPECT_TRUE(bitwise_equal(all.forward(x), from_torch(at::dropout(to_torch(x), 1.0, true))));
  Dropout eval(0.5, gen);
  eval.eval();
  EXPECT_TRUE(bitwise_equal(eval.forward(x), from_torch(at::dropout(to_torch(x), 0.5, false))));
}

TEST(LayersVsTorch, PositionalEmbeddings) {
  Generator gen(206);
  const std::int64_t max_len = 64, dim = 10, batch = 3, length = 17;
  LearnedPositionalEmbedding learned(max_len, dim, gen);
  torch::nn::Embedding table(torch::nn::EmbeddingOptions(max_len, dim));
  {
    torch::NoGradGuard no_grad;
    table->weight.copy_(to_torch(learned.weight()));
  }
  Tensor x = randn({batch, length, dim}, gen);
  Tensor gy = randn({batch, length, dim}, gen);
  Tensor y = learned.forward(x);
  Tensor gx = learned.backward(gy);
  at::Tensor tx = leaf(x);
  at::Tensor ty = tx + table->forward(at::arange(length, at::kLong));
  ty.backward(to_torch(gy));
  EXPECT_TRUE(bitwise_equal(y, from_torch(ty.detach())));
  EXPECT_TRUE(bitwise_equal(gx, from_torch(tx.grad())));
  EXPECT_TRUE(close(learned.gradients()[0].second, from_torch(table->weight.grad()), kRtol,
                    max_abs(from_torch(table->weight.grad()))));

  // The sinusoidal table against the usual PyTorch recipe evaluated in double.
  const std::int64_t long_len = 5000, d = 64;
  const at::Tensor position = at::arange(long_len, at::kDouble).unsqueeze(1);
  const at::Tensor div_term = at::exp(at::arange(0, d, 2, at::kDouble) * (-std::log(10000.0) / d));
  at::Tensor pe = at::zeros({long_len, d}, at::kDouble);
  pe.index_put_({at::indexing::Slice(), at::indexing::Slice(0, at::indexing::None, 2)},
                at::sin(position * div_term));
  pe.index_put_({at::indexing::Slice(), at::indexing::Slice(1, at::indexing::None, 2)},
                at::cos(position * div_term));
  // Angles up to 5000 rad computed two ways in double differ by ~1e-12: float32 rounding
  // dominates, so an absolute 1e-6 is the bound.
  EXPECT_TRUE(close(SinusoidalPositionalEmbedding::make_table(long_len, d),
                    from_torch(pe.to(at::kFloat)), kRtol, 1.0));
}

// The model of the issue: Sequential(Linear, ReLU, Linear) + CrossEntropy, against
// torch::nn::Sequential with the same weights, through forward, backward and SGD steps.
TEST(LayersVsTorch, SequentialWithCrossEntropyEndToEnd) {
  Generator gen(207);
  const std::int64_t batch = 32, in = 20, hidden = 64, classes = 7;
  Sequential ours(Linear(LinearOptions(in, hidden), gen), ReLU(),
                  Linear(LinearOptions(hidden, classes), gen));
  torch::nn::Sequential theirs(torch::nn::Linear(in, hidden), torch::nn::ReLU(),
                               torch::nn::Linear(hidden, classes));
  const auto torch_params = theirs->named_parameters();
  // Same names, same order.
  ASSERT_EQ(ours.named_parameters().size(), torch_params.size());
  {
    torch::NoGradGuard no_grad;
    std::size_t i = 0;
    for (const auto& [name, value] : ours.named_parameters()) {
      EXPECT_EQ(name, torch_params.keys()[i]);
      torch_params[name].copy_(to_torch(value));
      ++i;
    }
  }
  const float lr = 0.5f;
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    Tensor x = randn({batch, in}, gen);
    Tensor t = layers_test::randint({batch}, gen, classes);
    t.data<std::int64_t>()[3] = -100;  // one ignored sample
    ours.zero_grad();
    theirs->zero_grad();

    Tensor logits = ours.forward(x);
    LossOutput loss =
        functional::cross_entropy(logits, t, CrossEntropyLossOptions().label_smoothing(0.05));
    Tensor gx = ours.backward(loss.grad_input);

    at::Tensor tx = leaf(x);
    at::Tensor tlogits = theirs->forward(tx);
    at::Tensor tloss = torch::nn::functional::cross_entropy(
        tlogits, to_torch(t),
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.05));
    tloss.backward();

    // Tolerances grow with depth: each layer's rounding differences (rtol ~1e-7 per product)
    // feed the next, so 1e-5 of each tensor's scale after two products and three steps.
    constexpr double kDeep = 1e-5;
    const Tensor ref_logits = from_torch(tlogits.detach());
    EXPECT_TRUE(close(logits, ref_logits, kDeep, max_abs(ref_logits)));
    EXPECT_TRUE(close(loss.loss, from_torch(tloss.detach()), kDeep, 0.0));
    const Tensor ref_gx = from_torch(tx.grad());
    EXPECT_TRUE(close(gx, ref_gx, kDeep, max_abs(ref_gx)));
    for (const auto& [name, grad] : ours.gradients()) {
      const Tensor ref = from_torch(torch_params[name].grad());
      EXPECT_TRUE(close(grad, ref, kDeep, max_abs(ref))) << name;
    }
    // Plain SGD on both sides: p -= lr * grad.
    torch::NoGradGuard no_grad;
    const NamedTensors params = ours.named_parameters();
    const NamedTensors grads = ours.gradients();
    for (std::size_t i = 0; i < params.size(); ++i) {
      Tensor value = params[i].second;  // shares storage: updated in place
      const float* g = grads[i].second.data<float>();
      for (std::int64_t j = 0; j < value.numel(); ++j) value.data<float>()[j] -= lr * g[j];
      torch_params[params[i].first].sub_(torch_params[params[i].first].grad(), lr);
    }
  }
  for (const auto& [name, value] : ours.named_parameters()) {
    const Tensor ref = from_torch(torch_params[name].detach());
    EXPECT_TRUE(close(value, ref, 1e-5, max_abs(ref))) << name;
  }
}

// Dropout inside a Sequential in training mode: the same model in torch, built functionally with
// embedkit's mask, gives the same gradients.
TEST(LayersVsTorch, SequentialWithDropoutInTraining) {
  Generator gen(208);
  const std::int64_t batch = 16, in = 12, hidden = 24, classes = 5;
  Sequential ours(Linear(LinearOptions(in, hidden), gen), Tanh(), Dropout(0.3, gen),
                  Linear(LinearOptions(hidden, classes), gen));
  Tensor x = randn({batch, in}, gen);
  Tensor t = layers_test::randint({batch}, gen, classes);
  Tensor logits = ours.forward(x);
  LossOutput loss = functional::cross_entropy(logits, t);
  Tensor gx = ours.backward(loss.grad_input);

  const at::Tensor noise =
      (to_torch(ours.at<Dropout>(2).noise()) != 0).to(at::kFloat).div_(1 - 0.3);
  at::Tensor w0 = leaf(ours.at<Linear>(0).weight()), b0 = leaf(ours.at<Linear>(0).bias());
  at::Tensor w3 = leaf(ours.at<Linear>(3).weight()), b3 = leaf(ours.at<Linear>(3).bias());
  at::Tensor tx = leaf(x);
  at::Tensor h = at::tanh(at::linear(tx, w0, b0)) * noise;
  at::Tensor tloss = at::cross_entropy_loss(at::linear(h, w3, b3), to_torch(t));
  tloss.backward();

  constexpr double kDeep = 1e-5;
  EXPECT_TRUE(close(loss.loss, from_torch(tloss.detach()), kDeep, 0.0));
  EXPECT_TRUE(close(gx, from_torch(tx.grad()), kDeep, max_abs(from_torch(tx.grad()))));
  const NamedTensors grads = ours.gradients();
  const std::vector<at::Tensor> refs = {w0.grad(), b0.grad(), w3.grad(), b3.grad()};
  ASSERT_EQ(grads.size(), refs.size());
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const Tensor ref = from_torch(refs[i]);
    EXPECT_TRUE(close(grads[i].second, ref, kDeep, max_abs(ref))) << grads[i].first;
  }
}

}  // namespace
}  // namespace embedkit::nn
