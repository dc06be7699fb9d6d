// The fused backward + update equals backward, then step, bit for bit: for every optimizer with
// a row-wise update, for Embedding and EmbeddingBag, over several steps with repeated ids,
// padding, scale_grad_by_freq, per-sample weights and mean bags.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "embedkit/core/thread_pool.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/lazy_adam.hpp"
#include "embedkit/optim/module_parameters.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace embedkit::optim {
namespace {

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<Parameter>)>;

struct Named {
  const char* name;
  MakeOptimizer make;
};

std::vector<Named> row_wise_optimizers() {
  return {
      {"SGD", [](auto p) { return std::make_unique<SGD>(std::move(p), SGDOptions(0.1)); }},
      {"Adagrad",
       [](auto p) {
         return std::make_unique<Adagrad>(std::move(p),
                                          AdagradOptions(0.05).lr_decay(0.01).eps(1e-6));
       }},
      // Maximizing, the fused step takes Adagrad's own row update (RowStep), not the kernel.
      {"Adagrad maximize",
       [](auto p) {
         return std::make_unique<Adagrad>(std::move(p),
                                          AdagradOptions(0.05).eps(1e-6).maximize(true));
       }},
      {"RowWiseAdagrad",
       [](auto p) {
         return std::make_unique<RowWiseAdagrad>(std::move(p), RowWiseAdagradOptions(0.05));
       }},
      // With weight decay the fused step takes the optimizer's own row update (RowStep), not the
      // kernel that fuses the one without.
      {"RowWiseAdagrad with weight decay",
       [](auto p) {
         return std::make_unique<RowWiseAdagrad>(std::move(p),
                                                 RowWiseAdagradOptions(0.05).weight_decay(0.01));
       }},
      {"SparseAdam",
       [](auto p) { return std::make_unique<SparseAdam>(std::move(p), SparseAdamOptions(0.01)); }},
      {"LazyAdam",
       [](auto p) { return std::make_unique<LazyAdam>(std::move(p), LazyAdamOptions(0.01)); }},
  };
}

// The reference: the dense gradient (backward's row sums), restricted to the touched rows in
// ascending order (a coalesced row-sparse gradient), then step().
nn::WeightGrad touched_rows(const Tensor& dense, const Tensor& ids, std::int64_t padding) {
  std::vector<std::int64_t> rows = ids.to_int64_vector();
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  std::erase(rows, padding);
  const std::int64_t dim = dense.size(1);
  Tensor values = Tensor::empty({static_cast<std::int64_t>(rows.size()), dim});
  for (std::size_t k = 0; k < rows.size(); ++k) {
    for (std::int64_t j = 0; j < dim; ++j) {
      values.data<float>()[static_cast<std::int64_t>(k) * dim + j] =
          dense.data<float>()[rows[k] * dim + j];
    }
  }
  return nn::WeightGrad::from_sparse(
      RowSparseTensor(Tensor::from_vector(rows), values, dense.size(0)));
}

Tensor random_ids(Generator& gen, std::int64_t n, std::int64_t rows) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  // Few rows, many ids: plenty of repeats.
  for (auto& x : v)
    x = static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(rows));
  return Tensor::from_vector(v);
}

Tensor random_floats(Generator& gen, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  fill_normal(t, gen);
  return t;
}

TEST(FusedBackward, EmbeddingEqualsBackwardThenStep) {
  for (const Named& o : row_wise_optimizers()) {
    for (bool freq : {false, true}) {
      SCOPED_TRACE(std::string(o.name) + (freq ? " scale_grad_by_freq" : ""));
      Generator gen(17);
      nn::Embedding fused(nn::EmbeddingOptions(12, 7).padding_idx(3).scale_grad_by_freq(freq), gen);
      nn::Embedding plain(
          nn::EmbeddingOptions(12, 7).padding_idx(3).scale_grad_by_freq(freq).weight(
              fused.weight().clone()));
      auto opt_fused = o.make({{"weight", fused.weight(), 3}});
      auto opt_plain = o.make({{"weight", plain.weight(), 3}});
      for (int step = 0; step < 6; ++step) {
        Tensor ids = random_ids(gen, 40, 12).reshape({5, 8});
        Tensor grad_out = random_floats(gen, {5, 8, 7});
        fused_backward_step(fused, ids, grad_out, *opt_fused);
        const Tensor dense = plain.backward(ids, grad_out).dense();
        opt_plain->step({touched_rows(dense, ids, 3)});
        ASSERT_EQ(fused.weight().to_float_vector(), plain.weight().to_float_vector())
            << "step " << step;
      }
      const NamedTensors a = opt_fused->state_dict();
      const NamedTensors b = opt_plain->state_dict();
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].first, b[i].first);
        EXPECT_EQ(a[i].second.to_float_vector(), b[i].second.to_float_vector()) << a[i].first;
      }
    }
  }
}

TEST(FusedBackward, EmbeddingEqualsSparseBackwardCoalesceStep) {
  for (const Named& o : row_wise_optimizers()) {
    SCOPED_TRACE(o.name);
    Generator gen(5);
    nn::Embedding fused(nn::EmbeddingOptions(9, 4), gen);
    nn::Embedding plain(nn::EmbeddingOptions(9, 4).sparse(true).weight(fused.weight().clone()));
    auto opt_fused = o.make({{"weight", fused.weight(), std::nullopt}});
    auto opt_plain = o.make({{"weight", plain.weight(), std::nullopt}});
    for (int step = 0; step < 4; ++step) {
      Tensor ids = random_ids(gen, 30, 9);
      Tensor grad_out = random_floats(gen, {30, 4});
      fused_backward_step(fused, ids, grad_out, *opt_fused);
      const RowSparseTensor g = plain.backward(ids, grad_out).sparse().coalesce();
      opt_plain->step({nn::WeightGrad::from_sparse(g)});
      ASSERT_EQ(fused.weight().to_float_vector(), plain.weight().to_float_vector());
    }
  }
}

// README and fused_backward.hpp: the fused step equals a *coalesced* backward then step. With
// sparse(true), backward() returns PyTorch's uncoalesced gradient, and SGD applies it entry by
// entry (as PyTorch's sparse add_ does): each duplicate id's row is rounded into the table on its
// own. Here two halves of an ulp round away one at a time (ties to even) but not when summed
// first, so the two paths differ, and each matches its own reference exactly.
TEST(FusedBackward, UncoalescedSparseStepIsEntryByEntryAndDiffersFromFused) {
  const float half_ulp_of_one = std::ldexp(1.0f, -24);
  const Tensor ids = Tensor::from_vector<std::int64_t>({0, 0});
  const Tensor grad_out =
      Tensor::from_vector<float>({-half_ulp_of_one, -half_ulp_of_one}, Shape{2, 1});

  nn::Embedding fused(
      nn::EmbeddingOptions(1, 1).weight(Tensor::from_vector<float>({1.0f}, Shape{1, 1})));
  SGD opt_fused({{"weight", fused.weight(), std::nullopt}}, SGDOptions(1.0));
  fused_backward_step(fused, ids, grad_out, opt_fused);

  nn::Embedding plain(nn::EmbeddingOptions(1, 1).sparse(true).weight(
      Tensor::from_vector<float>({1.0f}, Shape{1, 1})));
  SGD opt_plain({{"weight", plain.weight(), std::nullopt}}, SGDOptions(1.0));
  const RowSparseTensor uncoalesced = plain.backward(ids, grad_out).sparse();
  ASSERT_EQ(uncoalesced.indices().numel(), 2);  // one entry per id, as PyTorch returns it
  opt_plain.step({nn::WeightGrad::from_sparse(uncoalesced)});

  const float summed = 1.0f + 2 * half_ulp_of_one;  // one rounding of the summed gradient
  const float one_at_a_time = (1.0f + half_ulp_of_one) + half_ulp_of_one;  // two, to even
  ASSERT_NE(summed, one_at_a_time);
  EXPECT_EQ(fused.weight().data<float>()[0], summed);
  EXPECT_EQ(plain.weight().data<float>()[0], one_at_a_time);
}

TEST(FusedBackward, EmbeddingBagEqualsBackwardThenStep) {
  for (const Named& o : row_wise_optimizers()) {
    for (nn::BagMode mode : {nn::BagMode::Sum, nn::BagMode::Mean}) {
      for (bool freq : {false, true}) {
        SCOPED_TRACE(std::string(o.name) + " " + nn::bag_mode_name(mode) + (freq ? " freq" : ""));
        Generator gen(99);
        auto options =
            nn::EmbeddingBagOptions(10, 5).mode(mode).padding_idx(0).scale_grad_by_freq(freq);
        nn::EmbeddingBag fused(options, gen);
        nn::EmbeddingBag plain(nn::EmbeddingBagOptions(options).weight(fused.weight().clone()));
        auto opt_fused = o.make({{"weight", fused.weight(), 0}});
        auto opt_plain = o.make({{"weight", plain.weight(), 0}});
        for (int step = 0; step < 5; ++step) {
          Tensor ids = random_ids(gen, 24, 10);
          Tensor offsets = Tensor::from_vector<std::int64_t>({0, 0, 5, 11, 11, 20});  // empty bags
          // Sum pooling with per-sample weights on odd steps, without on even ones (then each
          // id's scale is its bag's, computed once per bag).
          Tensor psw =
              mode == nn::BagMode::Sum && step % 2 == 1 ? random_floats(gen, {24}) : Tensor();
          Tensor grad_out = random_floats(gen, {6, 5});
          fused_backward_step(fused, ids, offsets, grad_out, *opt_fused, psw);
          const Tensor dense = plain.backward(ids, offsets, grad_out, psw).weight.dense();
          opt_plain->step({touched_rows(dense, ids, 0)});
          ASSERT_EQ(fused.weight().to_float_vector(), plain.weight().to_float_vector())
              << "step " << step;
        }
      }
    }
  }
}

// Large enough that the rows are split among threads and summed in many blocks: every thread
// count gives backward-then-step's result, bit for bit. Odd D, and one hot row hit by a third
// of the ids (its run spans what would be several chunks).
TEST(FusedBackward, ManyRowsAnyThreadCountEqualsBackwardThenStep) {
  const int threads_before = get_num_threads();
  const std::int64_t rows = 3000;
  const std::int64_t dim = 33;
  Generator data_gen(123);
  std::vector<std::int64_t> v(30000);
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = i % 3 == 0 ? 7 : static_cast<std::int64_t>(data_gen.next_u64() % rows);
  }
  const Tensor ids = Tensor::from_vector(v);
  const Tensor grad_out = random_floats(data_gen, {30000, dim});
  const Tensor offsets = Tensor::from_vector<std::int64_t>({0, 10, 10, 29990});
  const Tensor bag_grad = random_floats(data_gen, {4, dim});
  for (const Named& o : row_wise_optimizers()) {
    SCOPED_TRACE(o.name);
    Generator gen(8);
    nn::Embedding start(nn::EmbeddingOptions(rows, dim).scale_grad_by_freq(true), gen);
    nn::EmbeddingBag bag_start(nn::EmbeddingBagOptions(rows, dim).mode(nn::BagMode::Mean), gen);

    nn::Embedding plain(
        nn::EmbeddingOptions(rows, dim).scale_grad_by_freq(true).weight(start.weight().clone()));
    auto opt_plain = o.make({{"weight", plain.weight(), std::nullopt}});
    opt_plain->step({touched_rows(plain.backward(ids, grad_out).dense(), ids, -1)});
    nn::EmbeddingBag bag_plain(nn::EmbeddingBagOptions(rows, dim)
                                   .mode(nn::BagMode::Mean)
                                   .weight(bag_start.weight().clone()));
    auto bag_opt_plain = o.make({{"weight", bag_plain.weight(), std::nullopt}});
    bag_opt_plain->step(
        {touched_rows(bag_plain.backward(ids, offsets, bag_grad).weight.dense(), ids, -1)});

    for (int threads : {1, 2, 5}) {
      set_num_threads(threads);
      nn::Embedding fused(
          nn::EmbeddingOptions(rows, dim).scale_grad_by_freq(true).weight(start.weight().clone()));
      auto opt = o.make({{"weight", fused.weight(), std::nullopt}});
      fused_backward_step(fused, ids, grad_out, *opt);
      EXPECT_EQ(fused.weight().to_float_vector(), plain.weight().to_float_vector())
          << threads << " threads";
      nn::EmbeddingBag bag_fused(nn::EmbeddingBagOptions(rows, dim)
                                     .mode(nn::BagMode::Mean)
                                     .weight(bag_start.weight().clone()));
      auto bag_opt = o.make({{"weight", bag_fused.weight(), std::nullopt}});
      fused_backward_step(bag_fused, ids, offsets, bag_grad, *bag_opt);
      EXPECT_EQ(bag_fused.weight().to_float_vector(), bag_plain.weight().to_float_vector())
          << threads << " threads (bag)";
    }
  }
  set_num_threads(threads_before);
}

TEST(FusedBackward, RefusedCasesChangeNothing) {
  Generator gen(1);
  nn::Embedding emb(nn::EmbeddingOptions(6, 3), gen);
  const std::vector<float> before = emb.weight().to_float_vector();
  Tensor ids = Tensor::from_vector<std::int64_t>({1, 2, 2});
  Tensor grad_out = Tensor::zeros({3, 3});

  SGD momentum({{"weight", emb.weight(), std::nullopt}}, SGDOptions(0.1).momentum(0.9));
  EXPECT_THROW(fused_backward_step(emb, ids, grad_out, momentum), ValueError);
  Adam adam({{"weight", emb.weight(), std::nullopt}}, AdamOptions(0.1));
  EXPECT_THROW(fused_backward_step(emb, ids, grad_out, adam), ValueError);

  SparseAdam sparse_adam({{"weight", emb.weight(), std::nullopt}}, SparseAdamOptions(0.1));
  EXPECT_THROW(
      fused_backward_step(emb, Tensor::from_vector<std::int64_t>({1, 6, 2}), grad_out, sparse_adam),
      IndexError);
  EXPECT_THROW(fused_backward_step(emb, ids, Tensor::zeros({3, 4}), sparse_adam), ValueError);
  EXPECT_TRUE(sparse_adam.state_dict().empty());  // the step was never counted

  Tensor other = Tensor::zeros({6, 3});
  SparseAdam elsewhere({{"weight", other, std::nullopt}}, SparseAdamOptions(0.1));
  EXPECT_THROW(fused_backward_step(emb, ids, grad_out, elsewhere), ValueError);

  nn::EmbeddingBag max_bag(nn::EmbeddingBagOptions(6, 3).mode(nn::BagMode::Max), gen);
  SparseAdam bag_opt({{"weight", max_bag.weight(), std::nullopt}}, SparseAdamOptions(0.1));
  EXPECT_THROW(fused_backward_step(max_bag, ids, Tensor::from_vector<std::int64_t>({0}),
                                   Tensor::zeros({1, 3}), bag_opt),
               ValueError);

  nn::Embedding frozen = nn::Embedding::from_pretrained(emb.weight());
  EXPECT_THROW(fused_backward_step(frozen, ids, grad_out, sparse_adam), ValueError);
  EXPECT_EQ(emb.weight().to_float_vector(), before);
}

// The optimizer parameter is found by the table (shared storage, same start and shape), wherever
// it is among the optimizer's parameters: the result equals an optimizer over the table alone.
TEST(FusedBackward, FindsTheTableAmongTheOptimizersParameters) {
  Generator gen(7);
  nn::Embedding fused(nn::EmbeddingOptions(8, 3).padding_idx(2), gen);
  nn::Embedding alone(nn::EmbeddingOptions(8, 3).weight(fused.weight().clone()).padding_idx(2));
  nn::EmbeddingBag bag(nn::EmbeddingBagOptions(5, 3).mode(nn::BagMode::Sum), gen);
  Tensor other = Tensor::zeros({8, 3});
  std::vector<Parameter> params = {{"other", other, std::nullopt}};
  for (Parameter& p : make_parameters(bag, "bag")) params.push_back(std::move(p));
  for (Parameter& p : make_parameters(fused, "embedding")) params.push_back(std::move(p));
  SparseAdam opt(std::move(params), SparseAdamOptions(0.01));
  SparseAdam opt_alone(make_parameters(alone), SparseAdamOptions(0.01));
  const std::vector<float> bag_before = bag.weight().to_float_vector();
  for (int step = 0; step < 3; ++step) {
    Tensor ids = random_ids(gen, 12, 8);
    Tensor grad_out = random_floats(gen, {12, 3});
    fused_backward_step(fused, ids, grad_out, opt);
    fused_backward_step(alone, ids, grad_out, opt_alone);
    ASSERT_EQ(fused.weight().to_float_vector(), alone.weight().to_float_vector()) << step;
  }
  EXPECT_EQ(other.to_float_vector(), std::vector<float>(24, 0.0f));
  EXPECT_EQ(bag.weight().to_float_vector(), bag_before);

  // The bag's table is the optimizer's second parameter.
  fused_backward_step(bag, Tensor::from_vector<std::int64_t>({0, 4, 4}),
                      Tensor::from_vector<std::int64_t>({0, 1}), random_floats(gen, {2, 3}), opt);
  EXPECT_NE(bag.weight().to_float_vector(), bag_before);
  EXPECT_EQ(other.to_float_vector(), std::vector<float>(24, 0.0f));
}

// A table that is not among the optimizer's parameters (a view of it with another shape is not
// it either) is a ValueError raised before the step is counted or any row moves.
TEST(FusedBackward, TableNotAmongTheParametersIsAValueErrorThatChangesNothing) {
  Generator gen(8);
  nn::Embedding emb(nn::EmbeddingOptions(6, 3), gen);
  const std::vector<float> before = emb.weight().to_float_vector();
  const Tensor ids = Tensor::from_vector<std::int64_t>({1, 2, 2});
  const Tensor grad_out = random_floats(gen, {3, 3});
  Tensor copy = emb.weight().clone();
  SparseAdam copied({{"weight", copy, std::nullopt}}, SparseAdamOptions(0.1));
  try {
    fused_backward_step(emb, ids, grad_out, copied);
    ADD_FAILURE() << "no ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("not among the optimizer's parameters"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(copied.state_dict().empty());
  SGD flat({{"flat", emb.weight().reshape({18}), std::nullopt}}, SGDOptions(0.1));
  EXPECT_THROW(fused_backward_step(emb, ids, grad_out, flat), ValueError);
  nn::EmbeddingBag bag(nn::EmbeddingBagOptions(6, 3).mode(nn::BagMode::Sum), gen);
  EXPECT_THROW(fused_backward_step(bag, ids, Tensor::from_vector<std::int64_t>({0}),
                                   random_floats(gen, {1, 3}), copied),
               ValueError);
  EXPECT_TRUE(copied.state_dict().empty());
  EXPECT_EQ(emb.weight().to_float_vector(), before);
  EXPECT_EQ(copy.to_float_vector(), before);
}

TEST(FusedBackward, RowWiseRefusalsNameTheOption) {
  // The texts optim::detail::check_sgd_row_wise / check_adagrad_row_wise give the CPU step and
  // the CUDA DeviceOptimizer alike (tests/cuda/test_device.cpp checks the device's).
  const auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const ValueError& e) {
      return e.what();
    }
    return "no ValueError";
  };
  Generator gen(2);
  nn::Embedding emb(nn::EmbeddingOptions(6, 3), gen);
  const Tensor ids = Tensor::from_vector<std::int64_t>({1, 2});
  const Tensor grad_out = Tensor::zeros({2, 3});
  SGD decayed({{"weight", emb.weight(), std::nullopt}}, SGDOptions(0.1).weight_decay(0.01));
  EXPECT_EQ(message([&] { fused_backward_step(emb, ids, grad_out, decayed); }),
            "SGD with momentum or weight_decay has no row-wise update (it moves rows the batch "
            "did not touch), so it cannot be fused into the backward");
  Adagrad adagrad({{"weight", emb.weight(), std::nullopt}}, AdagradOptions(0.1).weight_decay(0.01));
  EXPECT_EQ(message([&] { fused_backward_step(emb, ids, grad_out, adagrad); }),
            "weight_decay option is not compatible with sparse gradients");
}

}  // namespace
}  // namespace embedkit::optim
