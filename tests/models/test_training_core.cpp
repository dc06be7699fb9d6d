// The shared training core (src/models): the hogwild runner, the token count, the (row, label)
// pairs of the binary logistic losses and the tabulated logistic step. Their users' results are
// pinned in test_training_pinned.cpp; these tests pin the parts' own contracts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "models/binary_targets.hpp"
#include "models/hogwild_runner.hpp"
#include "models/layered_input_bag.hpp"
#include "models/logistic_output_loss.hpp"
#include "models/mean_input_bag.hpp"
#include "models/token_count.hpp"

namespace {

namespace M = embedkit::models;
namespace T = embedkit::models::training;

TEST(WorkerSlice, SlicesAreContiguousAndCoverEverything) {
  for (std::uint64_t total : {0ULL, 1ULL, 7ULL, 1000003ULL}) {
    for (std::size_t workers : {1u, 2u, 3u, 8u}) {
      std::uint64_t next = 0;
      for (std::size_t w = 0; w < workers; ++w) {
        const auto [begin, end] = T::worker_slice(total, w, workers);
        EXPECT_EQ(begin, next);
        EXPECT_LE(end - begin, total / workers + 1);
        next = end;
      }
      EXPECT_EQ(next, total);
    }
  }
}

TEST(WorkerSeed, DiffersPerWorkerAndDependsOnTheSeedOnly) {
  EXPECT_NE(T::worker_seed(1, 0), T::worker_seed(1, 1));
  EXPECT_NE(T::worker_seed(1, 0), T::worker_seed(2, 0));
  EXPECT_EQ(T::worker_seed(5, 3), T::worker_seed(5, 3));
}

TEST(HogwildRunner, OneWorkerWithoutReportRunsOnTheCallingThread) {
  T::HogwildRunner runner(1);
  std::thread::id ran_on;
  runner.run([&](std::size_t) { ran_on = std::this_thread::get_id(); }, {}, 1.0);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(HogwildRunner, EveryWorkerRunsOnceAndReportsComeFromTheCallingThread) {
  T::HogwildRunner runner(4);
  std::vector<std::atomic<int>> runs(4);
  std::atomic<int> finished{0};
  std::vector<std::thread::id> reporters;
  runner.run(
      [&](std::size_t w) {
        ++runs[w];
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        ++finished;
      },
      [&] { reporters.push_back(std::this_thread::get_id()); }, 0.001);
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
  EXPECT_EQ(finished.load(), 4);
  ASSERT_FALSE(reporters.empty());
  for (const auto& id : reporters) EXPECT_EQ(id, std::this_thread::get_id());
  EXPECT_FALSE(runner.stopping());
}

// A worker that loops until told to stop: returns how long it waited.
void run_until_stopped(const T::HogwildRunner& runner) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!runner.stopping()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::logic_error("never stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(HogwildRunner, AWorkersExceptionStopsTheOthersAndPropagates) {
  T::HogwildRunner runner(3);
  try {
    runner.run(
        [&](std::size_t w) {
          if (w == 1) throw std::runtime_error("worker 1 diverged");
          run_until_stopped(runner);
        },
        {}, 1.0);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "worker 1 diverged");
  }
  EXPECT_TRUE(runner.stopping());
}

TEST(HogwildRunner, TheReportsExceptionStopsEveryWorkerAndWinsOverTheirs) {
  struct Cancelled {};
  T::HogwildRunner runner(2);
  int reports = 0;
  try {
    runner.run(
        [&](std::size_t) {
          run_until_stopped(runner);
          throw std::runtime_error("a worker's own error after the stop");
        },
        [&] {
          ++reports;
          throw Cancelled{};
        },
        0.001);
    FAIL() << "no exception";
  } catch (const Cancelled&) {
  }
  EXPECT_EQ(reports, 1);  // no report once stopping
}

TEST(TokenCount, PublishesToTheSharedTotalAndEstimatesBetween) {
  std::atomic<std::int64_t> total{0};
  T::TokenCount a(total), b(total);
  a.add(5);
  EXPECT_EQ(a.unpublished(), 5);
  EXPECT_EQ(a.estimate(), 5);
  EXPECT_EQ(a.publish(), 5);
  EXPECT_EQ(a.unpublished(), 0);
  b.add(3);
  EXPECT_EQ(b.publish(), 8);  // a's 5 and its own 3
  a.add(2);
  EXPECT_EQ(a.estimate(), 7);  // a's view: the total at its last publish, plus its own since
  EXPECT_EQ(total.load(), 8);
}

TEST(BinaryTargets, NegativeSamplingTrainsTheTargetThenDrawsSkippingIt) {
  // Two rows, the target drawn most of the time: every draw of it is skipped, every other kept.
  const std::vector<std::int64_t> counts = {1, 1000};
  const M::NegativeSampler sampler(counts, 1.0);
  embedkit::detail::SplitMix64 rng{3};
  std::vector<std::pair<std::int64_t, float>> pairs;
  T::for_each_sampled_target(
      1, sampler, 50, rng, [&](std::int64_t row, float label) { pairs.emplace_back(row, label); });
  ASSERT_FALSE(pairs.empty());
  EXPECT_EQ(pairs[0], (std::pair<std::int64_t, float>{1, 1.0f}));
  EXPECT_LT(pairs.size(), 51u);
  for (std::size_t i = 1; i < pairs.size(); ++i) {
    EXPECT_EQ(pairs[i], (std::pair<std::int64_t, float>{0, 0.0f}));
  }
}

TEST(BinaryTargets, HierarchicalSoftmaxWalksThePathWithEitherLabelling) {
  const std::vector<std::int64_t> counts = {5, 3, 2, 1};
  const M::HuffmanTree tree(counts);
  for (std::int64_t word = 0; word < 4; ++word) {
    const auto code = tree.code(static_cast<std::size_t>(word));
    const auto points = tree.points(static_cast<std::size_t>(word));
    for (const auto positive : {T::PositiveBranch::Zero, T::PositiveBranch::One}) {
      std::size_t d = 0;
      T::for_each_path_target(word, tree, positive, [&](std::int64_t row, float label) {
        ASSERT_LT(d, code.size());
        EXPECT_EQ(row, points[d]);
        const float one = positive == T::PositiveBranch::One ? 1.0f : 0.0f;
        EXPECT_EQ(label, code[d] == 1 ? one : 1.0f - one);
        ++d;
      });
      EXPECT_EQ(d, code.size());
    }
  }
}

TEST(BinaryLogisticUpdate, MovesTheRowAndGivesTheHiddenVectorsGradient) {
  const float hidden[2] = {0.5f, -1.0f};
  float row[2] = {0.2f, 0.1f};
  float grad[2] = {0, 0};
  // The score is 0.5 * 0.2 - 1 * 0.1 = 0.
  const double loss = T::binary_logistic_update(hidden, row, 1.0f, 0.1f, grad, 2);
  // sigmoid(0) = 1/2 from the table: loss log 2, g = 0.1 * (1 - 1/2).
  EXPECT_NEAR(loss, std::log(2.0), 1e-2);
  const float g = 0.1f * (1.0f - 0.5f);
  EXPECT_NEAR(grad[0], -g * 0.2f, 1e-3);
  EXPECT_NEAR(grad[1], -g * 0.1f, 1e-3);
  EXPECT_NEAR(row[0], 0.2f + g * 0.5f, 1e-3);
  EXPECT_NEAR(row[1], 0.1f - g * 1.0f, 1e-3);
  // Saturated: a confidently right score moves nothing and costs nothing.
  float far[2] = {100.0f, -100.0f};
  float none[2] = {0, 0};
  EXPECT_EQ(T::binary_logistic_update(hidden, far, 1.0f, 0.1f, none, 2), 0.0);
  EXPECT_EQ(none[0], 0.0f);
  EXPECT_EQ(far[0], 100.0f);
  // A NaN score shows in the loss (for the divergence check) and moves the row's other values
  // by nothing.
  float nan_row[2] = {std::nanf(""), 0.25f};
  float nan_grad[2] = {0, 0};
  EXPECT_TRUE(std::isnan(T::binary_logistic_update(hidden, nan_row, 1.0f, 0.1f, nan_grad, 2)));
  EXPECT_EQ(nan_row[1], 0.25f);
}

// Both input bags give the mean of their rows; word2vec's moves every row by -grad, the
// classifier's by -grad / rows (the gradient of the mean).
TEST(InputBags, MeanOfTheRowsAndEachRulesUpdate) {
  const std::vector<float> start = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};  // 5 rows of 2
  const std::vector<std::int64_t> rows = {1, 3};
  const float grad[2] = {-0.5f, 1.0f};

  std::vector<float> table = start;
  T::MeanInputBag mean_bag(table.data(), 2);
  const float* h = mean_bag.mean(rows);
  EXPECT_EQ(h[0], 5.0f);  // (3 + 7) / 2
  EXPECT_EQ(h[1], 6.0f);  // (4 + 8) / 2
  mean_bag.update(grad);
  EXPECT_EQ(table[2], 3.5f);
  EXPECT_EQ(table[3], 3.0f);
  EXPECT_EQ(table[6], 7.5f);
  EXPECT_EQ(table[7], 7.0f);
  EXPECT_EQ(table[0], 1.0f);  // rows outside the bag do not move
  // A bag of one row is the row itself, updated in place.
  const std::int64_t one = 4;
  EXPECT_EQ(mean_bag.mean({&one, 1}), table.data() + 8);

  embedkit::Tensor tensor = embedkit::Tensor::from_vector(start, embedkit::Shape{5, 2});
  T::LayeredInputBag layered_bag(tensor);
  const float* lh = layered_bag.mean(rows);
  EXPECT_EQ(lh[0], 5.0f);
  EXPECT_EQ(lh[1], 6.0f);
  layered_bag.update(grad);
  const float* t = tensor.data<float>();
  EXPECT_EQ(t[2], 3.25f);  // 3 + 0.5 / 2
  EXPECT_EQ(t[3], 3.5f);   // 4 - 1 / 2
  EXPECT_EQ(t[6], 7.25f);
  EXPECT_EQ(t[7], 7.5f);
  EXPECT_EQ(t[0], 1.0f);
}

}  // namespace
