// Which optimizers take row-sparse gradients, and the errors (PyTorch's texts) where PyTorch
// refuses them; SparseAdam's refusal of dense ones; empty row-sparse gradients.
#include <gtest/gtest.h>

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
using embedkit::Tensor;
using embedkit::nn::WeightGrad;

std::vector<eo::Parameter> table() {
  return {{"embedding.weight", random_table(8, 3, 1), 0}};
}

// step() throws ValueError with exactly `message`, and nothing moves.
void expect_refused(eo::Optimizer& opt, const WeightGrad& grad, const std::string& message) {
  const Tensor before = opt.params()[0].value.clone();
  try {
    opt.step({grad});
    ADD_FAILURE() << opt.name() << ": no error";
  } catch (const embedkit::ValueError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
  EXPECT_TRUE(same_bits(opt.params()[0].value, before));
}

TEST(GradientKinds, SparseRefusedWherePyTorchRefusesIt) {
  const WeightGrad g = sparse_grad(8, 3, {1, 1, 5}, 2);
  {
    eo::Adam opt(table(), eo::AdamOptions());
    EXPECT_FALSE(opt.supports_sparse());
    expect_refused(opt, g,
                   "Adam does not support sparse gradients, please consider SparseAdam instead");
  }
  {
    eo::AdamW opt(table(), eo::AdamWOptions());
    expect_refused(opt, g, "AdamW does not support sparse gradients");
  }
  {
    eo::Adagrad opt(table(), eo::AdagradOptions().weight_decay(0.1));
    EXPECT_FALSE(opt.supports_sparse());
    expect_refused(opt, g, "weight_decay option is not compatible with sparse gradients");
  }
  {
    // PyTorch fails with "add(sparse, dense) is not supported..." from inside the update.
    eo::SGD opt(table(), eo::SGDOptions(0.1).weight_decay(0.1));
    expect_refused(opt, g, "SGD: weight_decay option is not compatible with sparse gradients");
  }
}

TEST(GradientKinds, SparseAdamRefusesDenseGradients) {
  eo::SparseAdam opt(table(), eo::SparseAdamOptions());
  EXPECT_FALSE(opt.supports_dense());
  expect_refused(opt, dense_grad(8, 3, 2),
                 "SparseAdam does not support dense gradients, please consider Adam instead");
}

TEST(GradientKinds, SparseAcceptedWherePyTorchAcceptsIt) {
  const WeightGrad g = sparse_grad(8, 3, {1, 1, 5}, 2);
  std::vector<std::unique_ptr<eo::Optimizer>> opts;
  opts.push_back(std::make_unique<eo::SGD>(table(), eo::SGDOptions(0.1)));
  opts.push_back(std::make_unique<eo::SGD>(table(), eo::SGDOptions(0.1).momentum(0.9)));
  opts.push_back(std::make_unique<eo::Adagrad>(table(), eo::AdagradOptions()));
  opts.push_back(std::make_unique<eo::SparseAdam>(table(), eo::SparseAdamOptions()));
  opts.push_back(std::make_unique<eo::LazyAdam>(table(), eo::LazyAdamOptions()));
  opts.push_back(std::make_unique<eo::RowWiseAdagrad>(table(), eo::RowWiseAdagradOptions()));
  for (auto& opt : opts) {
    SCOPED_TRACE(opt->name());
    EXPECT_TRUE(opt->supports_sparse());
    const Tensor before = opt->params()[0].value.clone();
    opt->step({g});
    // Rows 1 and 5 moved; row 2, untouched, did not.
    EXPECT_NE(row(opt->params()[0].value, 1), row(before, 1));
    EXPECT_NE(row(opt->params()[0].value, 5), row(before, 5));
    EXPECT_EQ(row(opt->params()[0].value, 2), row(before, 2));
  }
}

// PyTorch 1.13's Adagrad and SparseAdam raise on an empty sparse gradient (a batch of padding
// only) after counting the step. embedkit counts the step and changes nothing else, as a zero
// dense gradient does.
TEST(GradientKinds, EmptySparseGradientCountsTheStepAndMovesNothing) {
  const WeightGrad empty =
      WeightGrad::from_sparse(embedkit::RowSparseTensor::empty(8, 3, embedkit::DType::Float32));
  {
    eo::Adagrad opt(table(), eo::AdagradOptions());
    const Tensor before = opt.params()[0].value.clone();
    opt.step({empty});
    EXPECT_TRUE(same_bits(opt.params()[0].value, before));
    EXPECT_EQ(opt.state_dict()[0].first, "embedding.weight.step");
    EXPECT_EQ(opt.state_dict()[0].second.item(), 1.0);
  }
  {
    eo::SparseAdam opt(table(), eo::SparseAdamOptions());
    const Tensor before = opt.params()[0].value.clone();
    opt.step({empty});
    EXPECT_TRUE(same_bits(opt.params()[0].value, before));
    EXPECT_EQ(opt.state_dict()[0].second.item(), 1.0);
    EXPECT_EQ(opt.state_dict()[1].first, "embedding.weight.exp_avg");
  }
  for (const auto& c : all_optimizers()) {
    if (!c.sparse) continue;
    SCOPED_TRACE(c.label);
    auto opt = c.make(table());
    const Tensor before = opt->params()[0].value.clone();
    opt->step({empty});
    EXPECT_TRUE(same_bits(opt->params()[0].value, before));
  }
}

}  // namespace
}  // namespace optim_test
