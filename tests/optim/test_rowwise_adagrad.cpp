// RowWiseAdagrad against hand-computed FBGEMM EXACT_ROWWISE_ADAGRAD steps: one accumulator per
// row (the mean of the row's squared gradient), weight decay modes, which rows a gradient
// touches.
#include <gtest/gtest.h>

#include <cmath>

#include "embedkit/optim/rowwise_adagrad.hpp"
#include "optim/all_optimizers.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;
using embedkit::Tensor;
using embedkit::nn::WeightGrad;

WeightGrad one_row(std::int64_t r, std::vector<float> g, std::int64_t rows) {
  const auto dim = static_cast<std::int64_t>(g.size());
  return WeightGrad::from_sparse(embedkit::RowSparseTensor(
      Tensor::from_vector(std::vector<std::int64_t>{r}), Tensor::from_floats(g, {1, dim}), rows));
}

TEST(RowWiseAdagrad, OneAccumulatorPerRow) {
  Tensor w = Tensor::from_floats({1, 2, 5, 6}, {2, 2});
  eo::RowWiseAdagrad opt({{"w", w, std::nullopt}}, eo::RowWiseAdagradOptions(0.1).eps(1e-8));
  opt.step({one_row(0, {3, 4}, 2)});
  // s0 = (9 + 16) / 2 = 12.5; w0 -= 0.1 * g / (sqrt(12.5) + 1e-8)
  const double m = 0.1 / (std::sqrt(12.5) + 1e-8);
  EXPECT_NEAR(w.item_at(0), 1 - 3 * m, 1e-6);
  EXPECT_NEAR(w.item_at(1), 2 - 4 * m, 1e-6);
  EXPECT_EQ(row(w, 1), (std::vector<float>{5, 6}));  // untouched
  EXPECT_EQ(opt.state_dict()[0].second.to_float_vector(), (std::vector<float>{12.5f, 0.0f}));
  opt.step({one_row(0, {1, 1}, 2)});
  EXPECT_FLOAT_EQ(opt.state_dict()[0].second.to_float_vector()[0], 13.5f);
}

TEST(RowWiseAdagrad, RepeatedRowsAreSummedFirst) {
  Tensor w = Tensor::zeros({3, 1});
  eo::RowWiseAdagrad opt({{"w", w, std::nullopt}}, eo::RowWiseAdagradOptions(0.1));
  opt.step({sparse_grad(3, 1, {2, 2}, 5)});
  const auto g = sparse_grad(3, 1, {2, 2}, 5).to_dense();
  const double total = g.item_at(2);
  EXPECT_NEAR(opt.state_dict()[0].second.item_at(2), total * total, 1e-5);
}

TEST(RowWiseAdagrad, WeightDecayModes) {
  // w = [1, 1], g = [0, 0], wd = 0.5, lr = 0.1:
  // L2: g' = [0.5, 0.5], s = 0.25, m = 0.1 / 0.5 = 0.2, w = (1 - 0.2 * 0.5) * w = 0.9
  // Decoupled: s = 0, m = 0.1 / eps (huge, but g is 0), w = (1 - 0.1 * 0.5) * w = 0.95
  {
    Tensor w = Tensor::from_floats({1, 1}, {1, 2});
    eo::RowWiseAdagrad opt({{"w", w, std::nullopt}},
                           eo::RowWiseAdagradOptions(0.1).weight_decay(0.5).eps(0.0));
    opt.step({one_row(0, {0, 0}, 1)});
    EXPECT_FLOAT_EQ(w.to_float_vector()[0], 0.9f);
    EXPECT_EQ(opt.state_dict()[0].second.item_at(0), 0.25);
  }
  {
    Tensor w = Tensor::from_floats({1, 1}, {1, 2});
    eo::RowWiseAdagrad opt({{"w", w, std::nullopt}},
                           eo::RowWiseAdagradOptions(0.1).weight_decay(0.5).weight_decay_mode(
                               eo::WeightDecayMode::Decoupled));
    opt.step({one_row(0, {0, 0}, 1)});
    EXPECT_FLOAT_EQ(w.to_float_vector()[1], 0.95f);
    EXPECT_EQ(opt.state_dict()[0].second.item_at(0), 0.0);
  }
}

TEST(RowWiseAdagrad, DenseGradientsTouchEveryRow) {
  // A zero row of a dense gradient still counts as touched: with weight decay it decays,
  // where a row-sparse gradient without that row would leave it alone.
  Tensor dense_w = Tensor::from_floats({1, 1, 2, 2}, {2, 2});
  Tensor sparse_w = dense_w.clone();
  const auto options = eo::RowWiseAdagradOptions(0.1).weight_decay(0.5);
  eo::RowWiseAdagrad dense_opt({{"w", dense_w, std::nullopt}}, options);
  eo::RowWiseAdagrad sparse_opt({{"w", sparse_w, std::nullopt}}, options);
  dense_opt.step({WeightGrad::from_dense(Tensor::from_floats({0, 0, 1, 1}, {2, 2}))});
  sparse_opt.step({one_row(1, {1, 1}, 2)});
  EXPECT_TRUE(same_bits(Tensor::from_floats(row(dense_w, 1), {2}),
                        Tensor::from_floats(row(sparse_w, 1), {2})));
  EXPECT_EQ(row(sparse_w, 0), (std::vector<float>{1, 1}));
  EXPECT_LT(row(dense_w, 0)[0], 1.0f);
}

}  // namespace
}  // namespace optim_test
