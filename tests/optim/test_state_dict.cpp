// state_dict()/load_state_dict(): "<param>.<state>" names, independent copies, a round trip
// that continues bit for bit, and a load that checks everything before changing anything.
#include <gtest/gtest.h>

#include "embedkit/core/error.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/lazy_adam.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"
#include "optim/all_optimizers.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;
using embedkit::Tensor;
using embedkit::nn::WeightGrad;

constexpr std::int64_t kRows = 6;
constexpr std::int64_t kDim = 3;

std::vector<eo::Parameter> params_from(const Tensor& table, const Tensor& second) {
  return {{"embedding.weight", table.clone(), 1}, {"linear.weight", second.clone(), std::nullopt}};
}

std::vector<WeightGrad> grads(const OptimizerCase& c, std::uint64_t seed) {
  if (!c.dense) {
    return {sparse_grad(kRows, kDim, {0, 3, 3}, seed), sparse_grad(2, 4, {1}, seed + 100)};
  }
  return {dense_grad(kRows, kDim, seed), dense_grad(2, 4, seed + 100)};
}

std::vector<std::string> names(const embedkit::NamedTensors& state) {
  std::vector<std::string> out;
  for (const auto& [name, value] : state) out.push_back(name);
  return out;
}

embedkit::NamedTensors cloned(const embedkit::NamedTensors& state) {
  embedkit::NamedTensors out;
  for (const auto& [name, value] : state) out.emplace_back(name, value.clone());
  return out;
}

TEST(StateDict, RoundTripContinuesBitForBit) {
  for (const auto& c : all_optimizers()) {
    SCOPED_TRACE(c.label);
    auto a = c.make(params_from(random_table(kRows, kDim, 1), random_table(2, 4, 2)));
    for (std::uint64_t s = 0; s < 3; ++s) a->step(grads(c, s));
    const auto saved = a->state_dict();
    // A new optimizer over the current values, with the saved state, continues identically.
    auto b = c.make(params_from(a->params()[0].value, a->params()[1].value));
    b->load_state_dict(saved);
    EXPECT_TRUE(same_state(b->state_dict(), saved));
    for (std::uint64_t s = 3; s < 6; ++s) {
      a->step(grads(c, s));
      b->step(grads(c, s));
    }
    EXPECT_TRUE(same_bits(a->params()[0].value, b->params()[0].value));
    EXPECT_TRUE(same_bits(a->params()[1].value, b->params()[1].value));
    EXPECT_TRUE(same_state(a->state_dict(), b->state_dict()));
  }
}

TEST(StateDict, EntriesAreCopies) {
  for (const auto& c : all_optimizers()) {
    SCOPED_TRACE(c.label);
    auto opt = c.make(params_from(random_table(kRows, kDim, 1), random_table(2, 4, 2)));
    opt->step(grads(c, 0));
    const auto saved = opt->state_dict();
    const auto copy = cloned(saved);
    opt->step(grads(c, 1));
    EXPECT_TRUE(same_state(saved, copy));
  }
}

TEST(StateDict, Names) {
  const auto p = [] { return params_from(random_table(kRows, kDim, 1), random_table(2, 4, 2)); };
  const auto dense = [] { return std::vector<WeightGrad>{dense_grad(kRows, kDim, 1), {}}; };
  {
    eo::SGD opt(p(), eo::SGDOptions(0.1).momentum(0.9));
    EXPECT_TRUE(opt.state_dict().empty());  // PyTorch creates the buffer on the first step
    opt.step(dense());
    EXPECT_EQ(names(opt.state_dict()),
              (std::vector<std::string>{"embedding.weight.momentum_buffer"}));
  }
  {
    eo::SGD opt(p(), eo::SGDOptions(0.1));
    opt.step(dense());
    EXPECT_TRUE(opt.state_dict().empty());  // no momentum, no state
  }
  {
    eo::Adagrad opt(p(), eo::AdagradOptions());
    const auto s = opt.state_dict();  // exists from construction, as in PyTorch
    EXPECT_EQ(names(s), (std::vector<std::string>{"embedding.weight.step", "embedding.weight.sum",
                                                  "linear.weight.step", "linear.weight.sum"}));
    EXPECT_EQ(s[0].second.dim(), 0);
    EXPECT_EQ(s[0].second.dtype(), embedkit::DType::Float32);  // PyTorch's step type
  }
  {
    eo::Adam opt(p(), eo::AdamOptions().amsgrad(true));
    opt.step(dense());
    EXPECT_EQ(names(opt.state_dict()),
              (std::vector<std::string>{"embedding.weight.step", "embedding.weight.exp_avg",
                                        "embedding.weight.exp_avg_sq",
                                        "embedding.weight.max_exp_avg_sq"}));
    EXPECT_EQ(opt.state_dict()[0].second.item(), 1.0);
  }
  {
    eo::SparseAdam opt(p(), eo::SparseAdamOptions());
    opt.step({sparse_grad(kRows, kDim, {0}, 1), {}});
    const auto s = opt.state_dict();
    EXPECT_EQ(names(s),
              (std::vector<std::string>{"embedding.weight.step", "embedding.weight.exp_avg",
                                        "embedding.weight.exp_avg_sq"}));
    EXPECT_EQ(s[0].second.dtype(), embedkit::DType::Int64);  // PyTorch keeps a Python int
  }
  {
    eo::LazyAdam opt(p(), eo::LazyAdamOptions());
    opt.step({sparse_grad(kRows, kDim, {0, 4, 0}, 1), {}});
    const auto s = opt.state_dict();
    EXPECT_EQ(s[0].first, "embedding.weight.step");
    EXPECT_EQ(s[0].second.to_int64_vector(), (std::vector<std::int64_t>{1, 0, 0, 0, 1, 0}));
  }
  {
    eo::RowWiseAdagrad opt(p(), eo::RowWiseAdagradOptions());
    const auto s = opt.state_dict();
    EXPECT_EQ(names(s), (std::vector<std::string>{"embedding.weight.sum", "linear.weight.sum"}));
    EXPECT_EQ(s[0].second.shape(), (embedkit::Shape{kRows}));
  }
}

// Loading `bad` must throw E and leave the optimizer's state as it was.
template <class E>
void expect_load_refused(eo::Optimizer& opt, const embedkit::NamedTensors& bad) {
  const auto before = cloned(opt.state_dict());
  EXPECT_THROW(opt.load_state_dict(bad), E);
  EXPECT_TRUE(same_state(opt.state_dict(), before));
}

TEST(StateDict, BadCheckpointsChangeNothing) {
  for (const auto& c : all_optimizers()) {
    SCOPED_TRACE(c.label);
    auto opt = c.make(params_from(random_table(kRows, kDim, 1), random_table(2, 4, 2)));
    opt->step(grads(c, 0));
    opt->step(grads(c, 1));
    const auto good = opt->state_dict();

    auto unknown = good;
    unknown.emplace_back("embedding.weight.velocity", Tensor::zeros({kRows, kDim}));
    expect_load_refused<embedkit::ValueError>(*opt, unknown);
    expect_load_refused<embedkit::ValueError>(
        *opt, {{"decoder.weight.exp_avg", Tensor::zeros({kRows, kDim})}});

    if (good.empty()) continue;  // plain SGD has no state to corrupt
    auto twice = good;
    twice.push_back(good.back());
    expect_load_refused<embedkit::ValueError>(*opt, twice);

    // A wrong shape in the last entry: everything before it was fine and must not be loaded.
    auto wrong_shape = cloned(good);
    wrong_shape.back().second = Tensor::zeros({1, 1});
    expect_load_refused<embedkit::ValueError>(*opt, wrong_shape);

    auto wrong_dtype = cloned(good);
    wrong_dtype.back().second = Tensor::zeros(good.back().second.shape(), embedkit::DType::Float16);
    expect_load_refused<embedkit::TypeError>(*opt, wrong_dtype);

    // A parameter's state is all or nothing.
    std::size_t of_first = 0;
    for (const auto& [name, value] : good) of_first += name.rfind("embedding.weight.", 0) == 0;
    if (of_first > 1) {
      auto partial = good;
      partial.erase(partial.begin());
      expect_load_refused<embedkit::ValueError>(*opt, partial);
    }
  }
}

TEST(StateDict, StepCountsAreChecked) {
  eo::Adam opt(params_from(random_table(kRows, kDim, 1), random_table(2, 4, 2)), eo::AdamOptions());
  opt.step({dense_grad(kRows, kDim, 1), {}});
  const auto good = opt.state_dict();
  const auto with_step = [&](Tensor step) {
    auto s = cloned(good);
    s[0].second = std::move(step);
    return s;
  };
  expect_load_refused<embedkit::ValueError>(opt, with_step(Tensor::scalar(-1.0f)));
  expect_load_refused<embedkit::ValueError>(opt, with_step(Tensor::scalar(2.5f)));
  expect_load_refused<embedkit::ValueError>(opt, with_step(Tensor::zeros({2})));
  expect_load_refused<embedkit::TypeError>(opt,
                                           with_step(Tensor::zeros({}, embedkit::DType::Int32)));
  // A step may be 0-dim or one element, float32 (PyTorch's) or int64.
  opt.load_state_dict(with_step(Tensor::from_vector(std::vector<std::int64_t>{7})));
  EXPECT_EQ(opt.state_dict()[0].second.item(), 7.0);
  opt.load_state_dict(with_step(Tensor::scalar(9.0f)));
  EXPECT_EQ(opt.state_dict()[0].second.item(), 9.0);
}

TEST(StateDict, AmsgradStateMustMatchTheOption) {
  auto p = [] { return params_from(random_table(kRows, kDim, 1), random_table(2, 4, 2)); };
  eo::Adam plain(p(), eo::AdamOptions());
  plain.step({dense_grad(kRows, kDim, 1), {}});
  eo::Adam ams(p(), eo::AdamOptions().amsgrad(true));
  expect_load_refused<embedkit::ValueError>(ams, plain.state_dict());  // no max_exp_avg_sq
  ams.step({dense_grad(kRows, kDim, 1), {}});
  expect_load_refused<embedkit::ValueError>(plain, ams.state_dict());  // an unexpected one
}

TEST(StateDict, EmptyCheckpointMeansFreshState) {
  for (const auto& c : all_optimizers()) {
    SCOPED_TRACE(c.label);
    auto opt = c.make(params_from(random_table(kRows, kDim, 1), random_table(2, 4, 2)));
    const auto fresh = cloned(opt->state_dict());
    opt->step(grads(c, 0));
    opt->load_state_dict({});
    EXPECT_TRUE(same_state(opt->state_dict(), fresh));
  }
}

}  // namespace
}  // namespace optim_test
