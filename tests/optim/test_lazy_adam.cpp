// LazyAdam: Adam row by row with per-row step counts. Equal to Adam bit for bit when every row
// is touched every step; otherwise untouched rows keep everything, and a row seen late gets
// Adam's first-step size (SparseAdam, with its global step, gives it about 2.5x that).
#include <gtest/gtest.h>

#include <cmath>

#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/lazy_adam.hpp"
#include "embedkit/optim/sparse_adam.hpp"
#include "optim/all_optimizers.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;
using embedkit::Tensor;
using embedkit::nn::WeightGrad;

TEST(LazyAdam, DenseGradientsGiveAdamBitForBit) {
  const Tensor init = random_table(9, 5, 1);
  const auto betas = eo::Betas(0.8, 0.95);
  eo::Adam adam({{"w", init.clone(), 4}}, eo::AdamOptions(0.01).betas(betas).eps(1e-6));
  eo::LazyAdam lazy({{"w", init.clone(), 4}}, eo::LazyAdamOptions(0.01).betas(betas).eps(1e-6));
  for (std::uint64_t s = 0; s < 20; ++s) {
    const WeightGrad g = dense_grad(9, 5, 100 + s);
    adam.step({g});
    lazy.step({g});
  }
  EXPECT_TRUE(same_bits(adam.params()[0].value, lazy.params()[0].value));
  // The moments agree too; the steps are 20 for every row but the padding row.
  const auto a = adam.state_dict();
  const auto l = lazy.state_dict();
  EXPECT_TRUE(same_bits(a[1].second, l[1].second));  // exp_avg
  EXPECT_TRUE(same_bits(a[2].second, l[2].second));  // exp_avg_sq
  EXPECT_EQ(l[0].second.to_int64_vector(),
            (std::vector<std::int64_t>{20, 20, 20, 20, 0, 20, 20, 20, 20}));
}

TEST(LazyAdam, SparseGradientsTouchingEveryRowGiveAdam) {
  const Tensor init = random_table(4, 3, 2);
  eo::Adam adam({{"w", init.clone(), std::nullopt}}, eo::AdamOptions(0.01));
  eo::LazyAdam lazy({{"w", init.clone(), std::nullopt}}, eo::LazyAdamOptions(0.01));
  for (std::uint64_t s = 0; s < 10; ++s) {
    const WeightGrad g = sparse_grad(4, 3, {3, 1, 0, 2}, 200 + s);
    adam.step({WeightGrad::from_dense(g.to_dense())});
    lazy.step({g});
  }
  EXPECT_TRUE(same_bits(adam.params()[0].value, lazy.params()[0].value));
}

TEST(LazyAdam, UntouchedRowsKeepValuesMomentsAndCounts) {
  eo::LazyAdam opt({{"w", random_table(5, 2, 3), std::nullopt}}, eo::LazyAdamOptions(0.1));
  opt.step({sparse_grad(5, 2, {0, 1}, 1)});
  const auto after_first = opt.state_dict();
  const Tensor w1 = opt.params()[0].value.clone();
  opt.step({sparse_grad(5, 2, {1, 1}, 2)});  // row 1 twice: summed, counted once
  const auto s = opt.state_dict();
  EXPECT_EQ(s[0].second.to_int64_vector(), (std::vector<std::int64_t>{1, 2, 0, 0, 0}));
  EXPECT_EQ(row(opt.params()[0].value, 0), row(w1, 0));
  EXPECT_EQ(row(s[1].second, 0), row(after_first[1].second, 0));  // no decay of row 0's moment
  EXPECT_NE(row(opt.params()[0].value, 1), row(w1, 1));
}

TEST(LazyAdam, LateRowGetsAFirstStepNotTheGlobalStepsCorrection) {
  // Row 0 is trained for 999 steps; row 1 is seen first at step 1000 with gradient 1.
  const double lr = 1e-3;
  eo::LazyAdam lazy({{"w", Tensor::zeros({2, 1}), std::nullopt}}, eo::LazyAdamOptions(lr));
  eo::SparseAdam sparse({{"w", Tensor::zeros({2, 1}), std::nullopt}}, eo::SparseAdamOptions(lr));
  for (int s = 0; s < 999; ++s) {
    const WeightGrad g = sparse_grad(2, 1, {0}, 1);
    lazy.step({g});
    sparse.step({g});
  }
  const WeightGrad late = WeightGrad::from_sparse(embedkit::RowSparseTensor(
      Tensor::from_vector(std::vector<std::int64_t>{1}), Tensor::from_floats({1.0f}, {1, 1}), 2));
  lazy.step({late});
  sparse.step({late});
  // LazyAdam: Adam's first step, lr * g / |g| (eps aside).
  EXPECT_NEAR(lazy.params()[0].value.item_at(1), -lr, 1e-9);
  // SparseAdam: lr * sqrt(1 - b2^1000) / (1 - b1^1000) * (1 - b1) / sqrt(1 - b2).
  const double expected = -lr * std::sqrt(1 - std::pow(0.999, 1000)) / (1 - std::pow(0.9, 1000)) *
                          0.1 / std::sqrt(0.001);
  EXPECT_NEAR(sparse.params()[0].value.item_at(1), expected, 1e-8);
  EXPECT_NEAR(expected / -lr, 2.51, 0.01);
}

}  // namespace
}  // namespace optim_test
