// The fused step's input-order mode (FusedSummation::InputOrder, Python's "approx_sgd"): each
// id occurrence's SGD update straight into the table. It stays within the documented float32
// tolerance of the exact mode (fused_backward.hpp), gives the same bits at every thread count,
// and refuses what it cannot do (a non-linear optimizer, scale_grad_by_freq) changing nothing.
// Also the exact mode at D = 100 (a width that is not a whole number of SIMD vectors).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace embedkit::optim {
namespace {

constexpr std::int64_t kRows = 400;
constexpr std::int64_t kBags = 300;

// Bags of 0..40 ids over few rows (many repeats), a third of the ids on one hot row, padding 3.
struct Batch {
  Tensor ids;
  Tensor offsets;
  std::vector<std::int64_t> bounds;
};

Batch make_batch(Generator& gen) {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> offsets;
  for (std::int64_t b = 0; b < kBags; ++b) {
    offsets.push_back(static_cast<std::int64_t>(ids.size()));
    const auto size = static_cast<std::int64_t>(gen.next_u64() % 41);
    for (std::int64_t i = 0; i < size; ++i) {
      const std::uint64_t r = gen.next_u64();
      ids.push_back(r % 3 == 0 ? 7 : static_cast<std::int64_t>((r >> 8) % kRows));
    }
  }
  std::vector<std::int64_t> bounds = offsets;
  bounds.push_back(static_cast<std::int64_t>(ids.size()));
  return {Tensor::from_vector(ids), Tensor::from_vector(offsets), bounds};
}

Tensor normal(Generator& gen, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  fill_normal(t, gen);
  return t;
}

nn::EmbeddingBagOptions bag_options(std::int64_t dim, nn::BagMode mode) {
  return nn::EmbeddingBagOptions(kRows, dim).mode(mode).padding_idx(3);
}

// One step of the given mode from `start`, at `threads` threads: the table after it.
std::vector<float> step(const Tensor& start, nn::BagMode mode, const Batch& batch,
                        const Tensor& grad_out, const Tensor& psw, double lr, bool maximize,
                        FusedSummation summation, int threads) {
  const int before = get_num_threads();
  set_num_threads(threads);
  nn::EmbeddingBag bag(bag_options(start.size(1), mode).weight(start.clone()));
  SGD sgd({{"weight", bag.weight(), 3}}, SGDOptions(lr).maximize(maximize));
  fused_backward_step(bag, batch.ids, batch.offsets, grad_out, sgd, psw, summation);
  set_num_threads(before);
  return bag.weight().to_float_vector();
}

TEST(FusedInputOrder, WithinTheDocumentedToleranceOfExactAndTheSameAtEveryThreadCount) {
  for (std::int64_t dim : {1, 33, 100, 128}) {
    for (nn::BagMode mode : {nn::BagMode::Sum, nn::BagMode::Mean}) {
      for (bool maximize : {false, true}) {
        SCOPED_TRACE(testing::Message() << "dim " << dim << " " << nn::bag_mode_name(mode)
                                        << (maximize ? " maximize" : ""));
        Generator gen(static_cast<std::uint64_t>(dim) * 7 + 1);
        const Batch batch = make_batch(gen);
        const std::int64_t n = batch.ids.numel();
        const Tensor start = normal(gen, {kRows, dim});
        const Tensor grad_out = normal(gen, {kBags, dim});
        const Tensor psw = mode == nn::BagMode::Sum ? normal(gen, {n}) : Tensor();
        const double lr = 0.05;
        const std::vector<float> exact =
            step(start, mode, batch, grad_out, psw, lr, maximize, FusedSummation::Exact, 1);
        const std::vector<float> approx =
            step(start, mode, batch, grad_out, psw, lr, maximize, FusedSummation::InputOrder, 1);

        // The bound of fused_backward.hpp, per element: 2 (k + 1) 2^-24 (|w| + lr sum |s g|)
        // over the row's k occurrences.
        std::vector<double> magnitude(static_cast<std::size_t>(kRows * dim));
        std::vector<std::int64_t> count(static_cast<std::size_t>(kRows), 0);
        const std::vector<std::int64_t> ids = batch.ids.to_int64_vector();
        const float* g = grad_out.data<float>();
        for (std::int64_t b = 0; b < kBags; ++b) {
          std::int64_t size = 0;
          for (std::int64_t i = batch.bounds[b]; i < batch.bounds[b + 1]; ++i) size += ids[i] != 3;
          for (std::int64_t i = batch.bounds[b]; i < batch.bounds[b + 1]; ++i) {
            if (ids[i] == 3) continue;
            double s = psw.defined() ? psw.data<float>()[i] : 1.0;
            if (mode == nn::BagMode::Mean) s /= static_cast<double>(size);
            ++count[ids[i]];
            for (std::int64_t j = 0; j < dim; ++j) {
              magnitude[ids[i] * dim + j] += lr * std::fabs(s * g[b * dim + j]);
            }
          }
        }
        const float* w0 = start.data<float>();
        std::int64_t differing = 0;
        for (std::int64_t r = 0; r < kRows; ++r) {
          for (std::int64_t j = 0; j < dim; ++j) {
            const std::int64_t e = r * dim + j;
            if (count[r] == 0) {
              ASSERT_EQ(approx[e], w0[e]) << "untouched row " << r;
              continue;
            }
            const double bound = 2.0 * static_cast<double>(count[r] + 1) * std::ldexp(1.0, -24) *
                                 (std::fabs(w0[e]) + magnitude[e]);
            ASSERT_LE(std::fabs(double{approx[e]} - double{exact[e]}), bound)
                << "row " << r << " column " << j << " (" << count[r] << " occurrences)";
            differing += approx[e] != exact[e];
          }
        }
        // The padding row never moves; the hot row moved.
        for (std::int64_t j = 0; j < dim; ++j) EXPECT_EQ(approx[3 * dim + j], w0[3 * dim + j]);
        EXPECT_NE(approx[7 * dim], w0[7 * dim]);
        if (dim >= 33) {
          EXPECT_GT(differing, 0) << "the two orders should round differently";
        }

        for (int threads : {2, 3, 8}) {
          EXPECT_EQ(step(start, mode, batch, grad_out, psw, lr, maximize,
                         FusedSummation::InputOrder, threads),
                    approx)
              << threads << " threads";
        }
      }
    }
  }
}

TEST(FusedInputOrder, EmbeddingWithinToleranceOfExact) {
  Generator gen(5);
  const std::int64_t dim = 100;
  std::vector<std::int64_t> v(5000);
  for (auto& x : v) x = static_cast<std::int64_t>(gen.next_u64() % 50);
  const Tensor ids = Tensor::from_vector(v);
  const Tensor start = normal(gen, {50, dim});
  const Tensor grad_out = normal(gen, {5000, dim});
  std::vector<float> results[2];
  for (int m = 0; m < 2; ++m) {
    nn::Embedding emb(nn::EmbeddingOptions(50, dim).weight(start.clone()));
    SGD sgd({{"weight", emb.weight(), std::nullopt}}, SGDOptions(0.01));
    fused_backward_step(emb, ids, grad_out, sgd,
                        m == 0 ? FusedSummation::Exact : FusedSummation::InputOrder);
    results[m] = emb.weight().to_float_vector();
  }
  const float* w0 = start.data<float>();
  const float* g = grad_out.data<float>();
  for (std::int64_t r = 0; r < 50; ++r) {
    for (std::int64_t j = 0; j < dim; ++j) {
      double magnitude = 0;
      std::int64_t k = 0;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != r) continue;
        ++k;
        magnitude += 0.01 * std::fabs(g[static_cast<std::int64_t>(i) * dim + j]);
      }
      const std::int64_t e = r * dim + j;
      const double bound =
          2.0 * static_cast<double>(k + 1) * std::ldexp(1.0, -24) * (std::fabs(w0[e]) + magnitude);
      ASSERT_LE(std::fabs(double{results[1][e]} - double{results[0][e]}), bound) << r << " " << j;
    }
  }
}

TEST(FusedInputOrder, RefusesNonLinearOptimizersAndFrequencyScalingChangingNothing) {
  Generator gen(2);
  nn::EmbeddingBag bag(bag_options(4, nn::BagMode::Sum), gen);
  const std::vector<float> before = bag.weight().to_float_vector();
  const Tensor ids = Tensor::from_vector<std::int64_t>({1, 2, 2});
  const Tensor offsets = Tensor::from_vector<std::int64_t>({0});
  const Tensor grad_out = Tensor::from_floats({1, 1, 1, 1}, {1, 4});
  const auto in_order = FusedSummation::InputOrder;

  SparseAdam adam({{"weight", bag.weight(), std::nullopt}}, SparseAdamOptions(0.1));
  try {
    fused_backward_step(bag, ids, offsets, grad_out, adam, Tensor(), in_order);
    FAIL() << "SparseAdam in input order was accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("linear in the gradient"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(adam.state_dict().empty());  // the step was never counted
  SGD momentum({{"weight", bag.weight(), std::nullopt}}, SGDOptions(0.1).momentum(0.9));
  EXPECT_THROW(fused_backward_step(bag, ids, offsets, grad_out, momentum, Tensor(), in_order),
               ValueError);

  nn::EmbeddingBag freq(
      bag_options(4, nn::BagMode::Sum).scale_grad_by_freq(true).weight(bag.weight()));
  SGD sgd({{"weight", freq.weight(), std::nullopt}}, SGDOptions(0.1));
  try {
    fused_backward_step(freq, ids, offsets, grad_out, sgd, Tensor(), in_order);
    FAIL() << "scale_grad_by_freq in input order was accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("scale_grad_by_freq"), std::string::npos) << e.what();
  }
  nn::Embedding emb(nn::EmbeddingOptions(6, 4).scale_grad_by_freq(true), gen);
  const std::vector<float> emb_before = emb.weight().to_float_vector();
  SGD emb_sgd({{"weight", emb.weight(), std::nullopt}}, SGDOptions(0.1));
  EXPECT_THROW(
      fused_backward_step(emb, ids, Tensor::from_floats(std::vector<float>(12, 1.0f), {3, 4}),
                          emb_sgd, in_order),
      ValueError);
  EXPECT_EQ(emb.weight().to_float_vector(), emb_before);
  EXPECT_EQ(bag.weight().to_float_vector(), before);
}

// The exact mode at D = 100, mean bags with padding, at 1 and 2 threads: bit for bit the
// dense backward's row sums, then SGD's step on the touched rows.
TEST(FusedInputOrder, ExactModeAtWidth100EqualsBackwardThenStep) {
  Generator gen(11);
  const Batch batch = make_batch(gen);
  const Tensor start = normal(gen, {kRows, 100});
  const Tensor grad_out = normal(gen, {kBags, 100});
  nn::EmbeddingBag plain(bag_options(100, nn::BagMode::Mean).weight(start.clone()));
  const Tensor dense = plain.backward(batch.ids, batch.offsets, grad_out).weight.dense();
  std::vector<float> expected = start.to_float_vector();
  const float neg_lr = -0.05f;
  std::vector<bool> touched(kRows, false);
  for (std::int64_t id : batch.ids.to_int64_vector()) touched[static_cast<std::size_t>(id)] = true;
  for (std::int64_t r = 0; r < kRows; ++r) {
    if (!touched[static_cast<std::size_t>(r)] || r == 3) continue;
    for (std::int64_t j = 0; j < 100; ++j) {
      float& w = expected[static_cast<std::size_t>(r * 100 + j)];
      w = std::fma(neg_lr, dense.data<float>()[r * 100 + j], w);
    }
  }
  for (int threads : {1, 2}) {
    EXPECT_EQ(step(start, nn::BagMode::Mean, batch, grad_out, Tensor(), 0.05, false,
                   FusedSummation::Exact, threads),
              expected)
        << threads << " threads";
  }
}

}  // namespace
}  // namespace embedkit::optim
