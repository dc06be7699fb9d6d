// The Module contract (module.hpp) on Linear and Sequential: state_dict names, gradient
// accumulation and zero_grad, train/eval reaching every child, reprs, and the errors.
#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "embedkit/core/error.hpp"
#include "embedkit/nn/activation.hpp"
#include "embedkit/nn/dropout.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/nn/sequential.hpp"
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
  EXPECT_EQ(names(model.parameters()), expected);
  EXPECT_EQ(names(model.gradients()), expected);
  EXPECT_EQ(model.num_parameters(), 4 * 6 + 6 + 6 * 3 + 3);
  // Nested containers prefix again, as PyTorch does.
  Sequential outer;
  outer.push_back(Linear(LinearOptions(2, 4).bias(false), gen));
  outer.push_back(mlp(gen));
  EXPECT_EQ(
      names(outer.parameters()),
      (std::vector<std::string>{"0.weight", "1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"}));
}

TEST(Module, ParametersShareStorageWithTheModule) {
  Generator gen(2);
  Sequential model = mlp(gen);
  Tensor w = model.parameters()[0].second;
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
  const Linear& stateless = lin;
  Tensor y_pure = stateless.forward(x);
  LinearGrad pure = stateless.backward(x, gy);
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
  EXPECT_THROW(model.push_back(std::shared_ptr<Module>()), ValueError);
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
  auto loss = [&] { return layers_test::dot(std::as_const(lin).forward(x), c); };
  lin.forward(x);
  Tensor gx = lin.backward(c);
  EXPECT_TRUE(
      layers_test::gradient_matches(gx, layers_test::numeric_gradient(x, loss, 1e-2), 1e-3));
  EXPECT_TRUE(layers_test::gradient_matches(
      lin.gradients()[0].second, layers_test::numeric_gradient(lin.weight(), loss, 1e-2), 1e-3));
  EXPECT_TRUE(layers_test::gradient_matches(
      lin.gradients()[1].second, layers_test::numeric_gradient(lin.bias(), loss, 1e-2), 1e-3));
}

}  // namespace
}  // namespace embedkit::nn
