// word2vec's data-parallel hook (Word2VecDataParallel) without MPI: the processes are threads of
// this test, and their synchronize meets at a barrier where one of them averages the tables. The
// MPI side (dist::TableAveraging, `mpirun embedkit train`) is tested in tests/dist.
#include <gtest/gtest.h>

#include <array>
#include <barrier>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>
#include <thread>

#include "embedkit/core/error.hpp"
#include "embedkit/models/word2vec.hpp"
#include "models/corpus_files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace M = embedkit::models;
using embedkit_models_test::kGroupA;
using embedkit_models_test::kGroupB;
using embedkit_models_test::two_group_corpus;
using embedkit_test::TempDir;
using embedkit_test::write_file;

M::Word2VecOptions options() {
  M::Word2VecOptions o;
  o.dim = 16;
  o.window = 3;
  o.min_count = 1;
  o.sample = 1e-2;
  o.epochs = 3;
  o.seed = 7;
  return o;
}

bool bitwise_equal(const embedkit::Tensor& a, const embedkit::Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

double cosine(const M::Word2VecResult& r, const std::string& a, const std::string& b) {
  const auto dim = static_cast<std::size_t>(r.vectors.size(1));
  const float* x =
      r.vectors.data<float>() + static_cast<std::size_t>(r.dictionary.words().at(a)) * dim;
  const float* y =
      r.vectors.data<float>() + static_cast<std::size_t>(r.dictionary.words().at(b)) * dim;
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t d = 0; d < dim; ++d) {
    xy += double(x[d]) * y[d];
    xx += double(x[d]) * x[d];
    yy += double(y[d]) * y[d];
  }
  return xy / std::sqrt(xx * yy);
}

TEST(Word2VecDataParallel, OnePartWithAnExactMeanEqualsTrainingWithoutIt) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(300, 10, 4));
  for (const bool subwords : {false, true}) {
    M::Word2VecOptions o = options();
    if (subwords) {
      o.architecture = M::Word2VecArchitecture::Cbow;
      o.minn = 2;
      o.maxn = 3;
      o.bucket = 100;
    }
    const M::Word2VecResult plain = M::train_word2vec(dir / "c.txt", o);
    M::Word2VecDataParallel parallel;
    parallel.periods_per_epoch = 5;
    int calls = 0;
    // The mean over one process: the tables and the sums as they are.
    parallel.synchronize = [&calls](std::span<float>, std::span<float>, std::span<double> sums) {
      ++calls;
      EXPECT_EQ(sums.size(), 3u);
    };
    const M::Word2VecResult one = M::train_word2vec(dir / "c.txt", o, {}, &parallel);
    EXPECT_EQ(calls, 3 * 5);
    EXPECT_TRUE(bitwise_equal(plain.vectors, one.vectors)) << "subwords " << subwords;
    EXPECT_TRUE(bitwise_equal(plain.output, one.output));
    EXPECT_EQ(plain.final_loss, one.final_loss);
    EXPECT_EQ(plain.words_trained, one.words_trained);
  }
}

// Two processes as two threads: part 0 averages both copies at each meeting.
TEST(Word2VecDataParallel, TwoPartsEndWithTheSameTablesAndLearnTheStructure) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(600, 12, 5));
  std::barrier<> meeting(2);
  std::array<std::span<float>, 2> inputs, outputs;
  std::array<std::span<double>, 2> sums;
  std::array<std::optional<M::Word2VecResult>, 2> results;
  auto part = [&](std::int64_t p) {
    M::Word2VecDataParallel parallel;
    parallel.part = p;
    parallel.parts = 2;
    parallel.periods_per_epoch = 3;
    parallel.synchronize = [&, p](std::span<float> in, std::span<float> out, std::span<double> s) {
      const auto i = static_cast<std::size_t>(p);
      inputs[i] = in;
      outputs[i] = out;
      sums[i] = s;
      meeting.arrive_and_wait();
      if (p == 0) {
        for (auto* t : {&inputs, &outputs}) {
          for (std::size_t k = 0; k < (*t)[0].size(); ++k) {
            (*t)[0][k] = (*t)[1][k] = ((*t)[0][k] + (*t)[1][k]) / 2.0f;
          }
        }
        for (std::size_t k = 0; k < s.size(); ++k)
          sums[0][k] = sums[1][k] = sums[0][k] + sums[1][k];
      }
      meeting.arrive_and_wait();
    };
    results[static_cast<std::size_t>(p)] =
        M::train_word2vec(dir / "c.txt", options(), {}, &parallel);
  };
  std::thread other(part, 1);
  part(0);
  other.join();
  ASSERT_TRUE(results[0] && results[1]);
  EXPECT_TRUE(bitwise_equal(results[0]->vectors, results[1]->vectors));
  // Every word of both halves, all epochs: the words were counted over both parts.
  EXPECT_EQ(results[0]->words_trained, 3 * 600 * 12);
  double min_within = 2, max_across = -2;
  for (const auto* g : {&kGroupA, &kGroupB}) {
    for (std::size_t i = 0; i < g->size(); ++i) {
      for (std::size_t j = i + 1; j < g->size(); ++j) {
        min_within = std::min(min_within, cosine(*results[0], (*g)[i], (*g)[j]));
      }
    }
  }
  for (const auto& a : kGroupA) {
    for (const auto& b : kGroupB) max_across = std::max(max_across, cosine(*results[0], a, b));
  }
  EXPECT_GT(min_within, max_across);
}

TEST(Word2VecDataParallel, BadPartsAreRefused) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(20, 5, 6));
  M::Word2VecDataParallel parallel;
  parallel.synchronize = [](std::span<float>, std::span<float>, std::span<double>) {};
  parallel.part = 2;
  parallel.parts = 2;
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", options(), {}, &parallel), embedkit::ValueError);
  parallel.part = 0;
  parallel.periods_per_epoch = 0;
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", options(), {}, &parallel), embedkit::ValueError);
  parallel.periods_per_epoch = 1;
  parallel.synchronize = nullptr;
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", options(), {}, &parallel), embedkit::ValueError);
}

// An exception from synchronize (another process failed) stops training and propagates.
TEST(Word2VecDataParallel, AnExceptionFromSynchronizePropagates) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(50, 5, 7));
  M::Word2VecDataParallel parallel;
  parallel.synchronize = [](std::span<float>, std::span<float>, std::span<double>) {
    throw embedkit::Error("another process failed");
  };
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", options(), {}, &parallel), embedkit::Error);
}

}  // namespace
