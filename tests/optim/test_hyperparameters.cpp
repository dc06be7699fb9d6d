// Invalid hyper-parameters raise ValueError with torch.optim's messages; valid edge values
// (0 where PyTorch allows it) are accepted.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "embedkit/core/error.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/adamw.hpp"
#include "embedkit/optim/lazy_adam.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"
#include "optim/all_optimizers.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;

std::vector<eo::Parameter> table() {
  return {{"w", random_table(4, 3, 1), std::nullopt}};
}

void expect_invalid(const std::function<void()>& make, const std::string& message) {
  try {
    make();
    ADD_FAILURE() << "no ValueError, expected \"" << message << "\"";
  } catch (const embedkit::ValueError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Hyperparameters, SGD) {
  const auto make = [](eo::SGDOptions o) {
    return [o] { static_cast<void>(eo::SGD(table(), o)); };
  };
  expect_invalid(make(eo::SGDOptions(-0.1)), "Invalid learning rate: -0.1");
  expect_invalid(make(eo::SGDOptions(NAN)), "Invalid learning rate: nan");
  expect_invalid(make(eo::SGDOptions(0.1).momentum(-1)), "Invalid momentum value: -1.0");
  expect_invalid(make(eo::SGDOptions(0.1).weight_decay(-1e-5)),
                 "Invalid weight_decay value: -1e-05");
  expect_invalid(make(eo::SGDOptions(0.1).nesterov(true)),
                 "Nesterov momentum requires a momentum and zero dampening");
  expect_invalid(make(eo::SGDOptions(0.1).nesterov(true).momentum(0.9).dampening(0.1)),
                 "Nesterov momentum requires a momentum and zero dampening");
  EXPECT_NO_THROW(eo::SGD(table(), eo::SGDOptions(0.0)));  // lr 0 is allowed, as in PyTorch
}

TEST(Hyperparameters, Adagrad) {
  const auto make = [](eo::AdagradOptions o) {
    return [o] { static_cast<void>(eo::Adagrad(table(), o)); };
  };
  expect_invalid(make(eo::AdagradOptions(-1)), "Invalid learning rate: -1.0");
  expect_invalid(make(eo::AdagradOptions().lr_decay(-0.5)), "Invalid lr_decay value: -0.5");
  expect_invalid(make(eo::AdagradOptions().weight_decay(-0.5)), "Invalid weight_decay value: -0.5");
  expect_invalid(make(eo::AdagradOptions().initial_accumulator_value(-0.5)),
                 "Invalid initial_accumulator_value value: -0.5");
  expect_invalid(make(eo::AdagradOptions().eps(-1e-10)), "Invalid epsilon value: -1e-10");
}

// Adam and AdamW check the same things with the same texts.
template <class Opt, class Options>
void check_adam_like() {
  const auto make = [](Options o) { return [o] { static_cast<void>(Opt(table(), o)); }; };
  expect_invalid(make(Options(-1e-3)), "Invalid learning rate: -0.001");
  expect_invalid(make(Options().eps(-1.0)), "Invalid epsilon value: -1.0");
  expect_invalid(make(Options().betas({1.0, 0.999})), "Invalid beta parameter at index 0: 1.0");
  expect_invalid(make(Options().betas({-0.1, 0.999})), "Invalid beta parameter at index 0: -0.1");
  expect_invalid(make(Options().betas({0.9, 1.5})), "Invalid beta parameter at index 1: 1.5");
  expect_invalid(make(Options().weight_decay(-0.1)), "Invalid weight_decay value: -0.1");
  EXPECT_NO_THROW(Opt(table(), Options(0.0).eps(0.0).betas({0.0, 0.0})));
}

TEST(Hyperparameters, Adam) {
  check_adam_like<eo::Adam, eo::AdamOptions>();
}
TEST(Hyperparameters, AdamW) {
  check_adam_like<eo::AdamW, eo::AdamWOptions>();
}

TEST(Hyperparameters, SparseAdamIsStrictAboutZero) {
  const auto make = [](eo::SparseAdamOptions o) {
    return [o] { static_cast<void>(eo::SparseAdam(table(), o)); };
  };
  expect_invalid(make(eo::SparseAdamOptions(0.0)), "Invalid learning rate: 0.0");
  expect_invalid(make(eo::SparseAdamOptions().eps(0.0)), "Invalid epsilon value: 0.0");
  expect_invalid(make(eo::SparseAdamOptions().betas({0.9, 1.0})),
                 "Invalid beta parameter at index 1: 1.0");
}

TEST(Hyperparameters, LazyAdam) {
  const auto make = [](eo::LazyAdamOptions o) {
    return [o] { static_cast<void>(eo::LazyAdam(table(), o)); };
  };
  expect_invalid(make(eo::LazyAdamOptions(-1.0)), "Invalid learning rate: -1.0");
  expect_invalid(make(eo::LazyAdamOptions().eps(-1.0)), "Invalid epsilon value: -1.0");
  expect_invalid(make(eo::LazyAdamOptions().betas({0.9, 2.0})),
                 "Invalid beta parameter at index 1: 2.0");
  EXPECT_THROW(
      eo::LazyAdam({{"bias", embedkit::Tensor::zeros({4}), std::nullopt}}, eo::LazyAdamOptions()),
      embedkit::ValueError);  // one step count per row needs rows
}

TEST(Hyperparameters, RowWiseAdagrad) {
  const auto make = [](eo::RowWiseAdagradOptions o) {
    return [o] { static_cast<void>(eo::RowWiseAdagrad(table(), o)); };
  };
  expect_invalid(make(eo::RowWiseAdagradOptions(-1.0)), "Invalid learning rate: -1.0");
  expect_invalid(make(eo::RowWiseAdagradOptions().eps(-1.0)), "Invalid epsilon value: -1.0");
  expect_invalid(make(eo::RowWiseAdagradOptions().weight_decay(-1.0)),
                 "Invalid weight_decay value: -1.0");
  EXPECT_THROW(eo::RowWiseAdagrad({{"bias", embedkit::Tensor::zeros({4}), std::nullopt}},
                                  eo::RowWiseAdagradOptions()),
               embedkit::ValueError);
}

TEST(Hyperparameters, DefaultsArePyTorchs) {
  EXPECT_EQ(eo::AdagradOptions().lr(), 1e-2);
  EXPECT_EQ(eo::AdagradOptions().eps(), 1e-10);
  EXPECT_EQ(eo::AdamOptions().lr(), 1e-3);
  EXPECT_EQ(eo::AdamOptions().betas(), eo::Betas(0.9, 0.999));
  EXPECT_EQ(eo::AdamOptions().eps(), 1e-8);
  EXPECT_EQ(eo::AdamOptions().weight_decay(), 0.0);
  EXPECT_EQ(eo::AdamWOptions().weight_decay(), 1e-2);
  EXPECT_EQ(eo::SparseAdamOptions().lr(), 1e-3);
  EXPECT_EQ(eo::SGDOptions(0.1).momentum(), 0.0);
}

}  // namespace
}  // namespace optim_test
