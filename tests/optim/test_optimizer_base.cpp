// The checks every optimizer shares (Optimizer's constructor and step()): parameters, gradient
// count, kinds, shapes and dtypes, all validated before anything moves.
#include <gtest/gtest.h>

#include "embedkit/core/error.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/sgd.hpp"
#include "optim/all_optimizers.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;
using embedkit::Tensor;
using embedkit::nn::WeightGrad;

std::vector<eo::Parameter> two_params() {
  return {{"embedding.weight", random_table(6, 4, 1), std::nullopt},
          {"linear.weight", random_table(3, 2, 2), std::nullopt}};
}

TEST(OptimizerBase, RefusesEmptyUnnamedDuplicateAndNonFloatParameters) {
  const auto opts = eo::SGDOptions(0.1);
  EXPECT_THROW(eo::SGD({}, opts), embedkit::ValueError);
  EXPECT_THROW(eo::SGD({{"", random_table(2, 2, 1), std::nullopt}}, opts), embedkit::ValueError);
  EXPECT_THROW(eo::SGD({{"w", random_table(2, 2, 1), std::nullopt},
                        {"w", random_table(2, 2, 2), std::nullopt}},
                       opts),
               embedkit::ValueError);
  const Tensor t = random_table(2, 2, 1);
  EXPECT_THROW(eo::SGD({{"a", t, std::nullopt}, {"b", t, std::nullopt}}, opts),
               embedkit::ValueError);  // the same storage twice would be stepped twice
  EXPECT_THROW(eo::SGD({{"w", Tensor(), std::nullopt}}, opts), embedkit::ValueError);
  EXPECT_THROW(
      eo::SGD({{"w", Tensor::zeros({2, 2}, embedkit::DType::Float16), std::nullopt}}, opts),
      embedkit::TypeError);
}

TEST(OptimizerBase, NormalisesAndChecksPaddingIdx) {
  const auto opts = eo::SGDOptions(0.1);
  eo::SGD opt({{"w", random_table(5, 2, 1), -1}}, opts);
  EXPECT_EQ(opt.params()[0].padding_idx, 4);  // negative counts from the end, as Embedding's
  EXPECT_THROW(eo::SGD({{"w", random_table(5, 2, 1), 5}}, opts), embedkit::ValueError);
  EXPECT_THROW(eo::SGD({{"w", random_table(5, 2, 1), -6}}, opts), embedkit::ValueError);
}

TEST(OptimizerBase, ParametersShareStorageWithTheCaller) {
  const Tensor table = random_table(6, 4, 1);
  const Tensor before = table.clone();
  eo::SGD opt({{"w", table, std::nullopt}}, eo::SGDOptions(0.1));
  opt.step({dense_grad(6, 4, 3)});
  EXPECT_FALSE(same_bits(table, before));  // the caller's tensor moved, in place
  EXPECT_TRUE(table.shares_storage_with(opt.params()[0].value));
}

TEST(OptimizerBase, GradientCountMustMatch) {
  eo::SGD opt(two_params(), eo::SGDOptions(0.1));
  EXPECT_THROW(opt.step({dense_grad(6, 4, 3)}), embedkit::ValueError);
}

// The second gradient is bad: the first parameter must not have moved, nor any state changed.
void expect_refused_untouched(const WeightGrad& bad, bool type_error) {
  for (const auto& c : all_optimizers()) {
    SCOPED_TRACE(c.label);
    auto opt = c.make(two_params());
    const Tensor first = opt->params()[0].value.clone();
    const auto state = opt->state_dict();
    const WeightGrad good = c.dense ? dense_grad(6, 4, 3) : sparse_grad(6, 4, {1, 2}, 3);
    if (type_error) {
      EXPECT_THROW(opt->step({good, bad}), embedkit::TypeError);
    } else {
      EXPECT_THROW(opt->step({good, bad}), embedkit::ValueError);
    }
    EXPECT_TRUE(same_bits(opt->params()[0].value, first));
    EXPECT_TRUE(same_state(opt->state_dict(), state));
  }
}

TEST(OptimizerBase, WrongDenseShapeChangesNothing) {
  expect_refused_untouched(dense_grad(3, 3, 4), false);
}

TEST(OptimizerBase, WrongSparseShapeChangesNothing) {
  // Every optimizer either refuses sparse gradients or their shape: both are ValueError.
  expect_refused_untouched(sparse_grad(4, 2, {0}, 4), false);
}

TEST(OptimizerBase, WrongDtypeChangesNothing) {
  for (const auto& c : all_optimizers()) {
    if (!c.dense) continue;
    SCOPED_TRACE(c.label);
    auto opt = c.make(two_params());
    const Tensor first = opt->params()[0].value.clone();
    const WeightGrad half = WeightGrad::from_dense(Tensor::zeros({3, 2}, embedkit::DType::Float16));
    EXPECT_THROW(opt->step({dense_grad(6, 4, 3), half}), embedkit::TypeError);
    EXPECT_TRUE(same_bits(opt->params()[0].value, first));
  }
}

TEST(OptimizerBase, UndefinedGradientLeavesParameterAndStateAlone) {
  for (const auto& c : all_optimizers()) {
    SCOPED_TRACE(c.label);
    auto opt = c.make(two_params());
    const Tensor second = opt->params()[1].value.clone();
    const WeightGrad g = c.dense ? dense_grad(6, 4, 3) : sparse_grad(6, 4, {1, 2}, 3);
    opt->step({g, WeightGrad()});
    opt->step({g, WeightGrad()});
    EXPECT_TRUE(same_bits(opt->params()[1].value, second));
    // Nothing is recorded for it but what exists from construction (Adagrad's, RowWise's).
    const auto state_before = opt->state_dict();
    opt->step({WeightGrad(), WeightGrad()});
    EXPECT_TRUE(same_state(opt->state_dict(), state_before));
  }
}

TEST(OptimizerBase, AdamStateIsCreatedOnAParametersFirstStep) {
  eo::Adam opt(two_params(), eo::AdamOptions());
  EXPECT_TRUE(opt.state_dict().empty());
  opt.step({dense_grad(6, 4, 3), WeightGrad()});
  std::vector<std::string> names;
  for (const auto& [name, value] : opt.state_dict()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"embedding.weight.step", "embedding.weight.exp_avg",
                                             "embedding.weight.exp_avg_sq"}));
}

}  // namespace
}  // namespace optim_test
