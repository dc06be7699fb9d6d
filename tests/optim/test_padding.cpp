// The padding row never moves, under every optimizer, with weight decay and momentum, whatever
// the gradient holds for it; and its state stays as created. (PyTorch lets weight decay and
// momentum move a non-zero padding row: SGD(weight_decay=0.1) takes 1.0 to 0.99.)
#include <gtest/gtest.h>

#include "embedkit/optim/sgd.hpp"
#include "optim/all_optimizers.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;
using embedkit::Tensor;
using embedkit::nn::WeightGrad;

constexpr std::int64_t kRows = 8;
constexpr std::int64_t kDim = 3;
constexpr std::int64_t kPad = 2;

// Row kPad of every per-row state entry equals its value in `initial`, or zero for an entry
// created by a step.
void expect_padding_state_untouched(const embedkit::NamedTensors& initial,
                                    const embedkit::NamedTensors& now) {
  for (const auto& [name, t] : now) {
    if (t.dim() == 0 || t.size(0) != kRows) continue;
    const Tensor* before = nullptr;
    for (const auto& [n, v] : initial) {
      if (n == name) before = &v;
    }
    const std::int64_t width = t.dim() == 1 ? 1 : t.size(1);
    for (std::int64_t j = 0; j < width; ++j) {
      const std::int64_t i = kPad * width + j;
      EXPECT_EQ(t.item_at(i), before ? before->item_at(i) : 0.0) << name << "[" << kPad << "]";
    }
  }
}

void check(const OptimizerCase& c, bool sparse) {
  SCOPED_TRACE(c.label + (sparse ? ", row-sparse" : ", dense"));
  auto opt = c.make({{"embedding.weight", random_table(kRows, kDim, 1), kPad}});
  const Tensor before = opt->params()[0].value.clone();
  const auto initial_state = opt->state_dict();
  for (std::uint64_t step = 0; step < 5; ++step) {
    // Gradients that do reach the padding row, as a hand-made gradient can.
    const WeightGrad g = sparse ? sparse_grad(kRows, kDim, {kPad, 1, kPad, 6}, 10 + step)
                                : dense_grad(kRows, kDim, 10 + step);
    opt->step({g});
  }
  const Tensor& after = opt->params()[0].value;
  EXPECT_EQ(row(after, kPad), row(before, kPad));
  EXPECT_NE(row(after, 1), row(before, 1));  // the others did train
  expect_padding_state_untouched(initial_state, opt->state_dict());
}

TEST(Padding, RowStaysFixedUnderEveryOptimizer) {
  for (const auto& c : all_optimizers()) {
    if (c.dense) check(c, false);
    if (c.sparse) check(c, true);
  }
}

TEST(Padding, SGDWeightDecayWouldMoveItInPyTorch) {
  // The reference's example: a padding row of ones under SGD(lr=0.1, weight_decay=0.1) and a
  // zero gradient becomes 0.99 in PyTorch; in embedkit it stays 1.
  Tensor w = Tensor::from_floats({1, 1, 5, 5}, {2, 2});
  eo::SGD opt({{"w", w, 0}}, eo::SGDOptions(0.1).weight_decay(0.1));
  opt.step({WeightGrad::from_dense(Tensor::zeros({2, 2}))});
  EXPECT_EQ(row(w, 0), (std::vector<float>{1, 1}));
  EXPECT_FLOAT_EQ(row(w, 1)[0], 4.95f);  // 5 - 0.1 * 0.1 * 5
}

}  // namespace
}  // namespace optim_test
