// The Module contract (module.hpp, layer.hpp) on Linear, Sequential, Embedding and EmbeddingBag:
// state_dict names, gradient accumulation and zero_grad, train/eval reaching every child, reprs,
// the errors, what a copy shares, optimizers built from a module's parameters, and Linear's
// products against the definition loops.
#include <gtest/gtest.h>

#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/activation.hpp"
#include "embedkit/nn/dropout.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/nn/sequential.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/sgd.hpp"
#include "layer_test_support.hpp"

namespace embedkit::nn {
namespace {

using layers_test::bitwise_equal;
using layers_test::randn;

std::vector<std::string> names(const NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

Sequential mlp(Generator& gen) {
  return Sequential(Linear(LinearOptions(4, 6), gen), ReLU(), Linear(LinearOptions(6, 3), gen));
}

TEST(Module, SequentialNamesParametersAsPyTorch) {
  Generator gen(1);
  Sequential model = mlp(gen);
  const std::vector<std::string> expected = {"0.weight", "0.bias", "2.weight", "2.bias"};
  EXPECT_EQ(names(model.named_parameters()), expected);
  EXPECT_EQ(names(model.gradients()), expected);
  EXPECT_EQ(model.num_parameters(), 4 * 6 + 6 + 6 * 3 + 3);
  // Nested containers prefix again, as PyTorch does.
  Sequential outer;
  outer.push_back(Linear(LinearOptions(2, 4).bias(false), gen));
  outer.push_back(mlp(gen));
  EXPECT_EQ(
      names(outer.named_parameters()),
      (std::vector<std::string>{"0.weight", "1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"}));
}

TEST(Module, ParametersShareStorageWithTheModule) {
  Generator gen(2);
  Sequential model = mlp(gen);
  Tensor w = model.named_parameters()[0].second;
  EXPECT_TRUE(w.shares_storage_with(model.at<Linear>(0).weight()));
  w.data<float>()[0] = 42.0f;  // what an optimizer's in-place update does
  EXPECT_EQ(model.at<Linear>(0).weight().data<float>()[0], 42.0f);
}

TEST(Module, GradientsAccumulateUntilZeroGrad) {
  Generator gen(3);
  Sequential model = mlp(gen);
  for (const auto& [name, g] : model.gradients()) EXPECT_FALSE(g.defined()) << name;
  for (const WeightGrad& g : model.weight_grads()) {
    EXPECT_FALSE(g.is_sparse());
    EXPECT_FALSE(g.to_dense().defined());
  }

  Tensor x = randn({5, 4}, gen);
  Tensor gy = randn({5, 3}, gen);
  model.forward(x);
  Tensor gx1 = model.backward(gy);
  std::vector<Tensor> once;
  for (const auto& [name, g] : model.gradients()) once.push_back(g.clone());
  // A second backward for the same forward repeats it: the same input gradient, parameter
  // gradients doubled (exactly: x + x is exact in floating point).
  Tensor gx2 = model.backward(gy);
  EXPECT_TRUE(bitwise_equal(gx1, gx2));
  std::size_t i = 0;
  for (const auto& [name, g] : model.gradients()) {
    Tensor doubled = once[i].clone();
    for (std::int64_t j = 0; j < doubled.numel(); ++j) doubled.data<float>()[j] *= 2.0f;
    EXPECT_TRUE(bitwise_equal(g, doubled)) << name;
    ++i;
  }

  model.zero_grad();
  for (const auto& [name, g] : model.gradients()) {
    ASSERT_TRUE(g.defined()) << name;
    EXPECT_EQ(layers_test::max_abs(g), 0.0) << name;
  }
  model.zero_grad(/*set_to_none=*/true);
  for (const auto& [name, g] : model.gradients()) EXPECT_FALSE(g.defined()) << name;
}

TEST(Module, StatelessAndModuleLinearAgree) {
  Generator gen(4);
  Linear lin(LinearOptions(7, 3), gen);
  Tensor x = randn({2, 5, 7}, gen);  // extra leading dimensions
  Tensor gy = randn({2, 5, 3}, gen);
  Tensor y_pure = functional::linear(x, lin.weight(), lin.bias());
  LinearGrad pure = functional::linear_backward(x, lin.weight(), gy, /*has_bias=*/true);
  EXPECT_TRUE(bitwise_equal(lin.forward(x), y_pure));
  EXPECT_TRUE(bitwise_equal(lin.backward(gy), pure.input));
  EXPECT_TRUE(bitwise_equal(lin.gradients()[0].second, pure.weight));
  EXPECT_TRUE(bitwise_equal(lin.gradients()[1].second, pure.bias));
  EXPECT_EQ(y_pure.shape(), (Shape{2, 5, 3}));
}

TEST(Module, TrainAndEvalReachEveryChild) {
  Generator gen(5);
  Sequential model(Linear(LinearOptions(3, 3), gen), Dropout(0.5, gen), ReLU());
  EXPECT_TRUE(model.is_training());
  model.eval();
  EXPECT_FALSE(model.is_training());
  for (std::size_t i = 0; i < model.size(); ++i) EXPECT_FALSE(model[i].is_training()) << i;
  Tensor x = randn({4, 3}, gen);
  // In eval mode Dropout is the identity: two passes agree.
  EXPECT_TRUE(bitwise_equal(model.forward(x), model.forward(x)));
  model.train();
  for (std::size_t i = 0; i < model.size(); ++i) EXPECT_TRUE(model[i].is_training()) << i;
}

TEST(Module, SharedChildrenAndTypedAccess) {
  Generator gen(6);
  auto shared = std::make_shared<Linear>(LinearOptions(2, 2), gen);
  Sequential model;
  model.push_back(shared);
  Tanh& stored = model.push_back(Tanh{});
  EXPECT_EQ(&model.at<Linear>(0), shared.get());
  EXPECT_EQ(&model.at<Tanh>(1), &stored);
  EXPECT_THROW(model.at<Linear>(1), TypeError);
  EXPECT_THROW(model[2], IndexError);
  EXPECT_THROW(model.push_back(std::shared_ptr<Layer>()), ValueError);
}

TEST(Module, EmptySequentialIsTheIdentity) {
  Sequential empty;
  Tensor x = Tensor::from_floats({1, 2, 3}, {3});
  EXPECT_TRUE(bitwise_equal(empty.forward(x), x));
  EXPECT_TRUE(bitwise_equal(empty.backward(x), x));
  EXPECT_EQ(empty.repr(), "Sequential()");
}

TEST(Module, ReprsAsPyTorch) {
  Generator gen(7);
  Sequential inner(Linear(LinearOptions(2, 3), gen), Sigmoid());
  Sequential model;
  model.push_back(Linear(LinearOptions(4, 2).bias(false), gen));
  model.push_back(Dropout(0.25, gen));
  model.push_back(std::move(inner));
  model.push_back(Tanh());
  EXPECT_EQ(model.repr(),
            "Sequential(\n"
            "  (0): Linear(in_features=4, out_features=2, bias=False)\n"
            "  (1): Dropout(p=0.25, inplace=False)\n"
            "  (2): Sequential(\n"
            "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
            "    (1): Sigmoid()\n"
            "  )\n"
            "  (3): Tanh()\n"
            ")");
  EXPECT_EQ(ReLU().repr(), "ReLU()");
  EXPECT_EQ(LogSoftmax().repr(), "LogSoftmax(dim=-1)");
}

TEST(Module, BackwardBeforeForwardIsAValueError) {
  Generator gen(8);
  Tensor g = randn({2, 2}, gen);
  Linear lin(LinearOptions(2, 2), gen);
  EXPECT_THROW(lin.backward(g), ValueError);
  EXPECT_THROW(ReLU().backward(g), ValueError);
  EXPECT_THROW(Tanh().backward(g), ValueError);
  EXPECT_THROW(Sigmoid().backward(g), ValueError);
  EXPECT_THROW(LogSoftmax().backward(g), ValueError);
  EXPECT_THROW(Dropout(0.5, gen).backward(g), ValueError);
  Sequential model = mlp(gen);
  EXPECT_THROW(model.backward(g), ValueError);
}

TEST(Module, LinearRejectsWrongInputs) {
  Generator gen(9);
  Linear lin(LinearOptions(3, 2), gen);
  EXPECT_THROW(lin.forward(randn({4, 5}, gen)), ValueError);
  EXPECT_THROW(lin.forward(Tensor::scalar(1.0f)), ValueError);
  EXPECT_THROW(lin.forward(Tensor::zeros({4, 3}, DType::Float16)), TypeError);
  EXPECT_THROW(lin.forward(Tensor::zeros({4, 3}, DType::Int64)), TypeError);
  EXPECT_THROW(lin.forward(Tensor()), ValueError);
  lin.forward(randn({4, 3}, gen));
  EXPECT_THROW(lin.backward(randn({4, 3}, gen)), ValueError);
  EXPECT_THROW(lin.backward(Tensor::zeros({4, 2}, DType::BFloat16)), TypeError);
  // A weight replaced by one of the wrong shape is caught, not read out of bounds.
  lin.weight() = randn({2, 4}, gen);
  EXPECT_THROW(lin.forward(randn({1, 3}, gen)), ValueError);
  EXPECT_THROW(Linear(LinearOptions(-1, 2)), ValueError);
}

TEST(Module, LinearWithZeroFeatures) {
  Generator gen(10);
  Linear lin(LinearOptions(0, 3), gen);
  Tensor y = lin.forward(Tensor::zeros({2, 0}));
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  // With nothing to sum, the output is the bias.
  for (std::int64_t r = 0; r < 2; ++r) {
    for (std::int64_t o = 0; o < 3; ++o) {
      EXPECT_EQ(y.data<float>()[r * 3 + o], lin.bias().data<float>()[o]);
    }
  }
  EXPECT_EQ(lin.backward(randn({2, 3}, gen)).shape(), (Shape{2, 0}));
}

TEST(Module, LinearGradientsMatchFiniteDifferences) {
  Generator gen(11);
  Linear lin(LinearOptions(5, 4), gen);
  Tensor x = randn({3, 5}, gen);
  Tensor c = randn({3, 4}, gen);
  auto loss = [&] { return layers_test::dot(functional::linear(x, lin.weight(), lin.bias()), c); };
  lin.forward(x);
  Tensor gx = lin.backward(c);
  EXPECT_TRUE(
      layers_test::gradient_matches(gx, layers_test::numeric_gradient(x, loss, 1e-2), 1e-3));
  EXPECT_TRUE(layers_test::gradient_matches(
      lin.gradients()[0].second, layers_test::numeric_gradient(lin.weight(), loss, 1e-2), 1e-3));
  EXPECT_TRUE(layers_test::gradient_matches(
      lin.gradients()[1].second, layers_test::numeric_gradient(lin.bias(), loss, 1e-2), 1e-3));
}

TEST(Module, EmbeddingAndBagNameTheirTable) {
  Generator gen(12);
  Embedding emb(EmbeddingOptions(10, 3).padding_idx(-1), gen);
  ASSERT_EQ(emb.named_parameters().size(), 1u);
  EXPECT_EQ(emb.named_parameters()[0].first, "weight");
  EXPECT_TRUE(emb.named_parameters()[0].second.shares_storage_with(emb.weight()));
  ASSERT_EQ(emb.parameters().size(), 1u);
  EXPECT_TRUE(emb.parameters()[0].shares_storage_with(emb.weight()));
  EXPECT_EQ(emb.num_parameters(), 30);
  EXPECT_EQ(emb.padding_row("weight"), std::optional<std::int64_t>(9));  // -1 resolved
  EXPECT_EQ(emb.padding_row("bias"), std::nullopt);
  // A frozen table is still a parameter, as PyTorch lists one with requires_grad=False.
  Embedding frozen = Embedding::from_pretrained(emb.weight());
  EXPECT_EQ(names(frozen.named_parameters()), std::vector<std::string>{"weight"});
  EXPECT_EQ(frozen.padding_row("weight"), std::nullopt);

  EmbeddingBag bag(EmbeddingBagOptions(4, 2).padding_idx(1), gen);
  EXPECT_EQ(names(bag.named_parameters()), std::vector<std::string>{"weight"});
  EXPECT_TRUE(bag.parameters()[0].shares_storage_with(bag.weight()));
  EXPECT_EQ(bag.padding_row("weight"), std::optional<std::int64_t>(1));
  const Module& as_module = bag;
  EXPECT_EQ(as_module.repr(), bag.repr());
  // Layers have no padding row; a Sequential asks the child its name's prefix names.
  Sequential model = mlp(gen);
  EXPECT_EQ(model.padding_row("0.weight"), std::nullopt);
  EXPECT_EQ(model.padding_row("7.weight"), std::nullopt);
}

TEST(Module, MakeParametersNamesAndPadsAsTheModule) {
  Generator gen(13);
  Embedding emb(EmbeddingOptions(5, 2).padding_idx(0), gen);
  const std::vector<optim::Parameter> plain = optim::make_parameters(emb);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].name, "weight");
  EXPECT_TRUE(plain[0].value.shares_storage_with(emb.weight()));
  EXPECT_EQ(plain[0].padding_idx, std::optional<std::int64_t>(0));
  EXPECT_EQ(optim::make_parameters(emb, "embedding")[0].name, "embedding.weight");

  Sequential model = mlp(gen);
  std::vector<std::string> got;
  for (const optim::Parameter& p : optim::make_parameters(model, "head")) {
    got.push_back(p.name);
    EXPECT_EQ(p.padding_idx, std::nullopt) << p.name;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"head.0.weight", "head.0.bias", "head.2.weight",
                                           "head.2.bias"}));
  const std::vector<optim::Parameter> from_named = optim::make_parameters(model.named_parameters());
  ASSERT_EQ(from_named.size(), 4u);
  EXPECT_EQ(from_named[3].name, "2.bias");
  EXPECT_TRUE(from_named[3].value.shares_storage_with(model.at<Linear>(2).bias()));

  // The padding row reaches the optimizer: weight decay moves every row but it.
  const std::vector<float> before = emb.weight().to_float_vector();
  optim::SGD sgd(optim::make_parameters(emb), optim::SGDOptions(0.5).weight_decay(0.5));
  sgd.step({WeightGrad::from_dense(Tensor::zeros({5, 2}))});
  const std::vector<float> after = emb.weight().to_float_vector();
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1]);
  EXPECT_NE(after[2], before[2]);
}

// module.hpp: a copy shares the parameters' storage (and the gradients accumulated so far),
// but not the options, the training flag, requires_grad, or a rebinding of weight().
TEST(Module, CopiesShareParameterStorageNotFlags) {
  Generator gen(14);
  Linear a(LinearOptions(3, 2), gen);
  Linear b = a;
  EXPECT_TRUE(b.weight().shares_storage_with(a.weight()));
  const std::vector<float> bias_before = a.bias().to_float_vector();
  optim::SGD sgd(optim::make_parameters(b), optim::SGDOptions(1.0));
  sgd.step({WeightGrad::from_dense(Tensor::zeros({2, 3})),
            WeightGrad::from_dense(layers_test::full({2}, 1.0f))});
  // a sees the update of b's parameters: bias - 1 * 1.
  EXPECT_EQ(a.bias().to_float_vector(),
            (std::vector<float>{bias_before[0] - 1.0f, bias_before[1] - 1.0f}));
  b.eval();
  EXPECT_TRUE(a.is_training());
  b.weight() = a.weight().clone();  // rebinding one copy leaves the other alone
  EXPECT_FALSE(b.weight().shares_storage_with(a.weight()));

  Embedding e(EmbeddingOptions(4, 2).padding_idx(3), gen);
  Embedding f = e;
  const std::vector<float> table_before = e.weight().to_float_vector();
  f.reset_parameters(gen);  // redraws the shared table in place
  EXPECT_NE(e.weight().to_float_vector(), table_before);
  EXPECT_EQ(e.weight().to_float_vector(), f.weight().to_float_vector());
  f.set_requires_grad(false);
  EXPECT_TRUE(e.requires_grad());

  EmbeddingBag bag(EmbeddingBagOptions(4, 2), gen);
  EmbeddingBag bag_copy = bag;
  bag_copy.weight().data<float>()[0] = 42.0f;
  EXPECT_EQ(bag.weight().data<float>()[0], 42.0f);
}

TEST(Module, CopiesShareAccumulatedGradients) {
  Generator gen(15);
  Linear a(LinearOptions(3, 2), gen);
  const Tensor x = randn({4, 3}, gen);
  const Tensor gy = randn({4, 2}, gen);
  a.forward(x);
  a.backward(gy);
  const Tensor once = a.gradients()[0].second.clone();
  Linear b = a;
  EXPECT_TRUE(b.gradients()[0].second.shares_storage_with(a.gradients()[0].second));
  // b's cached input is a's: its backward adds into the shared gradient, which a sees.
  b.backward(gy);
  Tensor twice = once.clone();
  for (std::int64_t j = 0; j < twice.numel(); ++j) twice.data<float>()[j] *= 2.0f;
  EXPECT_TRUE(bitwise_equal(a.gradients()[0].second, twice));
  // Dropping b's gradients drops only b's handles.
  b.zero_grad(/*set_to_none=*/true);
  EXPECT_FALSE(b.gradients()[0].second.defined());
  EXPECT_TRUE(a.gradients()[0].second.defined());
}

TEST(Module, FunctionalLinearChecksItsArguments) {
  Generator gen(16);
  const Tensor w = randn({2, 3}, gen);
  EXPECT_EQ(functional::linear(randn({4, 3}, gen), w).shape(), (Shape{4, 2}));
  EXPECT_THROW(functional::linear(randn({4, 3}, gen), randn({6}, gen)), ValueError);
  EXPECT_THROW(functional::linear(randn({4, 2}, gen), w), ValueError);
  EXPECT_THROW(functional::linear(randn({4, 3}, gen), w, randn({3}, gen)), ValueError);
  EXPECT_THROW(functional::linear(Tensor::zeros({4, 3}, DType::Int64), w), TypeError);
  EXPECT_THROW(functional::linear(randn({4, 3}, gen), Tensor::zeros({2, 3}, DType::Float16)),
               TypeError);
  EXPECT_THROW(functional::linear_backward(randn({4, 3}, gen), w, randn({4, 3}, gen), false),
               ValueError);
  const LinearGrad g =
      functional::linear_backward(randn({4, 3}, gen), w, randn({4, 2}, gen), false);
  EXPECT_FALSE(g.bias.defined());
  EXPECT_EQ(g.weight.shape(), (Shape{2, 3}));
}

// Linear's three products (kernels/cpu/gemm.hpp) against plain loops written from the
// definitions.
TEST(Module, LinearMatchesDefinitionLoopsBitwise) {
  Generator gen(12);
  for (auto [rows, in, out] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
           {1, 1, 1}, {5, 13, 9}, {37, 300, 10}, {2, 0, 3}, {0, 4, 3}}) {
    SCOPED_TRACE(testing::Message() << rows << "x" << in << "->" << out);
    Linear lin(LinearOptions(in, out), gen);
    Tensor x = randn({rows, in}, gen);
    Tensor g = randn({rows, out}, gen);
    const float* xp = x.data<float>();
    const float* w = lin.weight().data<float>();
    const float* b = lin.bias().data<float>();
    const float* gp = g.data<float>();
    Tensor y = Tensor::empty({rows, out});
    Tensor gx = Tensor::empty({rows, in});
    Tensor gw = Tensor::empty({out, in});
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t o = 0; o < out; ++o) {
        float acc = 0.0f;
        for (std::int64_t i = 0; i < in; ++i) acc += xp[r * in + i] * w[o * in + i];
        y.data<float>()[r * out + o] = acc + b[o];
      }
      for (std::int64_t i = 0; i < in; ++i) {
        float acc = 0.0f;
        for (std::int64_t o = 0; o < out; ++o) acc += gp[r * out + o] * w[o * in + i];
        gx.data<float>()[r * in + i] = acc;
      }
    }
    for (std::int64_t o = 0; o < out; ++o) {
      for (std::int64_t i = 0; i < in; ++i) {
        float acc = 0.0f;
        for (std::int64_t r = 0; r < rows; ++r) acc += gp[r * out + o] * xp[r * in + i];
        gw.data<float>()[o * in + i] = acc;
      }
    }
    EXPECT_TRUE(bitwise_equal(lin.forward(x), y));
    const LinearGrad grads = functional::linear_backward(x, lin.weight(), g, /*has_bias=*/true);
    EXPECT_TRUE(bitwise_equal(grads.input, gx));
    EXPECT_TRUE(bitwise_equal(grads.weight, gw));
  }
}

}  // namespace
}  // namespace embedkit::nn
