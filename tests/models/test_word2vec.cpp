#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "embedkit/models/word2vec.hpp"
#include "models/corpus_files.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace M = embedkit::models;
using embedkit_models_test::kGroupA;
using embedkit_models_test::kGroupB;
using embedkit_models_test::two_group_corpus;
using embedkit_models_test::write_gzip;
using embedkit_test::TempDir;
using embedkit_test::write_file;

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

// Every same-group pair is closer than every cross-group pair.
void expect_groups_separated(const M::Word2VecResult& r) {
  ASSERT_EQ(r.dictionary.words().size(),
            static_cast<std::int64_t>(kGroupA.size() + kGroupB.size()));
  double min_within = 2, max_across = -2;
  for (const auto* g : {&kGroupA, &kGroupB}) {
    for (std::size_t i = 0; i < g->size(); ++i) {
      for (std::size_t j = i + 1; j < g->size(); ++j) {
        min_within = std::min(min_within, cosine(r, (*g)[i], (*g)[j]));
      }
    }
  }
  for (const auto& a : kGroupA) {
    for (const auto& b : kGroupB) max_across = std::max(max_across, cosine(r, a, b));
  }
  EXPECT_GT(min_within, max_across)
      << "closest cross-group pair " << max_across << ", farthest same-group pair " << min_within;
  EXPECT_TRUE(std::isfinite(r.final_loss));
  EXPECT_GT(r.final_loss, 0.0);
}

M::Word2VecOptions small_options(M::Word2VecArchitecture arch, M::Word2VecLoss loss) {
  M::Word2VecOptions o;
  o.architecture = arch;
  o.loss = loss;
  o.dim = 16;
  o.window = 3;
  o.min_count = 1;
  o.sample = 0;
  o.epochs = 3;
  o.seed = 7;
  return o;
}

class PlantedStructure
    : public ::testing::TestWithParam<std::tuple<M::Word2VecArchitecture, M::Word2VecLoss>> {};

TEST_P(PlantedStructure, SameGroupWordsEndCloser) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(400, 12, 1));
  const auto [arch, loss] = GetParam();
  const M::Word2VecResult r = M::train_word2vec(dir / "c.txt", small_options(arch, loss));
  EXPECT_EQ(r.words_trained, 3 * 400 * 12);
  expect_groups_separated(r);
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, PlantedStructure,
    ::testing::Combine(::testing::Values(M::Word2VecArchitecture::SkipGram,
                                         M::Word2VecArchitecture::Cbow),
                       ::testing::Values(M::Word2VecLoss::NegativeSampling,
                                         M::Word2VecLoss::HierarchicalSoftmax)));

TEST(Word2Vec, TwoThreadsLearnToo) {
  // Hogwild: not reproducible, but it must still learn the structure and see every word.
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(400, 12, 2));
  auto o = small_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  o.threads = 2;
  const M::Word2VecResult r = M::train_word2vec(dir / "c.txt", o);
  EXPECT_EQ(r.words_trained, 3 * 400 * 12);
  expect_groups_separated(r);
}

bool bitwise_equal(const embedkit::Tensor& a, const embedkit::Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

TEST(Word2Vec, OneThreadSameSeedIsBitwiseReproducible) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(200, 10, 3));
  for (auto loss : {M::Word2VecLoss::NegativeSampling, M::Word2VecLoss::HierarchicalSoftmax}) {
    auto o = small_options(M::Word2VecArchitecture::SkipGram, loss);
    o.sample = 1e-2;  // subsampling draws random numbers too
    const auto a = M::train_word2vec(dir / "c.txt", o);
    const auto b = M::train_word2vec(dir / "c.txt", o);
    EXPECT_TRUE(bitwise_equal(a.vectors, b.vectors));
    EXPECT_EQ(a.final_loss, b.final_loss);
    o.seed = 8;
    const auto c = M::train_word2vec(dir / "c.txt", o);
    EXPECT_FALSE(bitwise_equal(a.vectors, c.vectors)) << "the seed must matter";
  }
}

TEST(Word2Vec, GzipInputEqualsPlainInput) {
  TempDir dir;
  const std::string text = two_group_corpus(200, 10, 4);
  write_file(dir / "c.txt", text);
  write_gzip(dir / "c.txt.gz", text);
  const auto o = small_options(M::Word2VecArchitecture::Cbow, M::Word2VecLoss::NegativeSampling);
  const auto a = M::train_word2vec(dir / "c.txt", o);
  const auto b = M::train_word2vec(dir / "c.txt.gz", o);
  EXPECT_EQ(a.dictionary.words().texts(), b.dictionary.words().texts());
  EXPECT_TRUE(bitwise_equal(a.vectors, b.vectors));
}

// A cancelled run (Python's Ctrl-C raises from the progress callback): the exception stops every
// worker thread and propagates out of train_word2vec once they are joined (a joinable thread
// destroyed during unwinding would be std::terminate), and the callback is not called again.
TEST(Word2Vec, AnExceptionFromOnProgressStopsTrainingAndPropagates) {
  struct Cancelled : std::runtime_error {
    Cancelled() : std::runtime_error("cancelled") {}
  };
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(2000, 12, 8));
  auto o = small_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  o.threads = 3;
  o.epochs = 400;  // seconds of work: far longer than the cancelled run may take
  o.progress_interval = 0.01;
  using Clock = std::chrono::steady_clock;
  int calls = 0;
  double words_at_cancel = 0;
  const auto start = Clock::now();
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", o,
                                 [&](const M::Word2VecProgress& p) {
                                   ++calls;
                                   words_at_cancel = static_cast<double>(p.words);
                                   throw Cancelled();
                                 }),
               Cancelled);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(calls, 1);
  EXPECT_LT(words_at_cancel, 0.5 * 400 * 2000 * 12);
  EXPECT_LT(seconds, 5.0) << "the workers did not stop";
}

// The counting pass of a big corpus can take long too: on_progress is called during it (fraction
// 0), and an exception from it stops the count.
TEST(Word2Vec, AnExceptionFromOnProgressWhileCountingPropagates) {
  struct Cancelled {};
  TempDir dir;
  const std::int64_t lines = 2 * M::Dictionary::kCountingTick / 12 + 1;
  write_file(dir / "c.txt", two_group_corpus(static_cast<int>(lines), 12, 10));
  auto o = small_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  o.progress_interval = 1e-9;
  int calls = 0;
  M::Word2VecProgress seen;
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", o,
                                 [&](const M::Word2VecProgress& p) {
                                   ++calls;
                                   seen = p;
                                   throw Cancelled{};
                                 }),
               Cancelled);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen.fraction, 0.0);
  EXPECT_EQ(seen.words, 0);
}

TEST(Word2Vec, MinAlphaSetsGensimsLinearSchedule) {
  M::Word2VecOptions o;
  o.alpha = 0.025;
  EXPECT_DOUBLE_EQ(o.alpha_at(0.0), 0.025);
  EXPECT_DOUBLE_EQ(o.alpha_at(0.5), 0.0125);
  EXPECT_DOUBLE_EQ(o.alpha_at(1.0), 0.025 * 1e-4);  // word2vec.c's floor
  o.min_alpha = 0.0001;
  EXPECT_DOUBLE_EQ(o.alpha_at(0.0), 0.025);
  EXPECT_DOUBLE_EQ(o.alpha_at(0.5), 0.025 - 0.0249 * 0.5);
  EXPECT_DOUBLE_EQ(o.alpha_at(1.0), 0.0001);
  o.min_alpha = -1;
  EXPECT_THROW(o.validate(), embedkit::ValueError);
  o.min_alpha = 0.0001;
  o.ns_exponent = std::nan("");
  EXPECT_THROW(o.validate(), embedkit::ValueError);

  // Both schedules and another exponent still learn, and change the result.
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(400, 12, 9));
  auto w = small_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  const auto base = M::train_word2vec(dir / "c.txt", w);
  w.min_alpha = 0.0001;
  const auto gensim_schedule = M::train_word2vec(dir / "c.txt", w);
  expect_groups_separated(gensim_schedule);
  EXPECT_FALSE(bitwise_equal(base.vectors, gensim_schedule.vectors));
  w.min_alpha.reset();
  w.ns_exponent = 0.0;
  const auto uniform_negatives = M::train_word2vec(dir / "c.txt", w);
  expect_groups_separated(uniform_negatives);
  EXPECT_FALSE(bitwise_equal(base.vectors, uniform_negatives.vectors));
}

TEST(Word2Vec, InputVectorsStartUniformInPlusMinusOneOverDim) {
  // gensim's and fastText's start (word2vec.c's is half as wide, [-0.5, 0.5) / dim, and scored
  // lower on analogies: BENCHMARKS.md). A rate this small leaves the vectors where they started.
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(40, 12, 10));
  for (auto arch : {M::Word2VecArchitecture::SkipGram, M::Word2VecArchitecture::Cbow}) {
    auto o = small_options(arch, M::Word2VecLoss::NegativeSampling);
    o.alpha = 1e-30;
    o.epochs = 1;
    const auto r = M::train_word2vec(dir / "c.txt", o);
    const float bound = 1.0f / static_cast<float>(o.dim);
    const float* v = r.vectors.data<float>();
    const auto n = static_cast<std::size_t>(r.vectors.numel());
    float lo = bound, hi = -bound;
    double sum_abs = 0;
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_GE(v[i], -bound) << i;
      ASSERT_LT(v[i], bound) << i;
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
      sum_abs += std::fabs(v[i]);
    }
    // Uniform on [-1/dim, 1/dim): the extremes come near both ends, and |x| averages 0.5/dim.
    EXPECT_LT(lo, -0.9f * bound);
    EXPECT_GT(hi, 0.9f * bound);
    EXPECT_NEAR(sum_abs / static_cast<double>(n), 0.5 * bound, 0.1 * bound);
  }
}

TEST(Word2Vec, ReportsProgress) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(100, 10, 5));
  int calls = 0;
  M::Word2VecProgress last;
  M::train_word2vec(
      dir / "c.txt",
      small_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling),
      [&](const M::Word2VecProgress& p) {
        ++calls;
        last = p;
      });
  EXPECT_GE(calls, 1);
  // The final report: all words done, a positive loss, the rate decayed to its floor.
  EXPECT_DOUBLE_EQ(last.fraction, 1.0);
  EXPECT_EQ(last.words, 3000);
  EXPECT_GT(last.loss, 0.0);
  EXPECT_LT(last.alpha, 0.025 * 1e-3);
}

TEST(Word2Vec, MaxVocabAndMinCountShapeTheTable) {
  TempDir dir;
  // "a" x4, "b" x3, "c" x2, "d" x1: min_count 2 keeps a, b, c; max_vocab 2 then keeps a, b.
  write_file(dir / "c.txt", "a b c d\na b c\na b\na\n");
  auto o = small_options(M::Word2VecArchitecture::Cbow, M::Word2VecLoss::HierarchicalSoftmax);
  o.min_count = 2;
  o.max_vocab = 2;
  const auto r = M::train_word2vec(dir / "c.txt", o);
  EXPECT_EQ(r.dictionary.words().texts(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.vectors.shape(), (embedkit::Shape{2, 16}));
  EXPECT_EQ(r.corpus.tokens, 10);
  EXPECT_EQ(r.words_trained, 3 * 7);  // only kept words count
}

TEST(Word2Vec, RefusesBadOptionsAndCorpora) {
  TempDir dir;
  write_file(dir / "c.txt", "a b c\n");
  write_file(dir / "empty.txt", "");
  write_file(dir / "bin.txt", std::string("a\0b", 3));
  auto o = small_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  EXPECT_THROW(M::train_word2vec(dir / "empty.txt", o), embedkit::ValueError);
  EXPECT_THROW(M::train_word2vec(dir / "bin.txt", o), embedkit::IoError);
  EXPECT_THROW(M::train_word2vec(dir / "missing.txt", o), embedkit::IoError);
  o.min_count = 2;
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", o), embedkit::ValueError);
  o.min_count = 1;
  o.dim = 0;
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", o), embedkit::ValueError);
}

// A learning rate far too large makes the dot products overflow to inf and then NaN. Training
// must stop with an error naming the epoch and the option to change, never return the NaN
// vectors, and never index the sigmoid table with a NaN (undefined behaviour: UBSan showed an
// index of 2^63 with --alpha 1 --dim 20).
TEST(Word2Vec, DivergenceIsAnErrorNamingTheEpochAndTheRate) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(400, 12, 6));
  for (const auto arch : {M::Word2VecArchitecture::SkipGram, M::Word2VecArchitecture::Cbow}) {
    for (const auto loss :
         {M::Word2VecLoss::NegativeSampling, M::Word2VecLoss::HierarchicalSoftmax}) {
      for (const double alpha : {1.0, 1e30}) {
        auto o = small_options(arch, loss);
        o.dim = 20;
        o.alpha = alpha;
        o.epochs = 20;
        std::string message;
        try {
          M::train_word2vec(dir / "c.txt", o);
        } catch (const M::TrainingDivergedError& e) {
          message = e.what();
          EXPECT_GE(e.epoch(), 1);
          EXPECT_LE(e.epoch(), o.epochs);
        }
        SCOPED_TRACE("alpha " + std::to_string(alpha));
        EXPECT_NE(message.find("training diverged at epoch "), std::string::npos) << message;
        EXPECT_NE(message.find(", word "), std::string::npos) << message;
        EXPECT_NE(message.find("; lower --lr"), std::string::npos) << message;
      }
    }
  }
}

TEST(Word2Vec, DivergenceStopsEveryThread) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(2000, 12, 7));
  auto o = small_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  o.alpha = 1e30;
  o.threads = 3;
  EXPECT_THROW(M::train_word2vec(dir / "c.txt", o), M::TrainingDivergedError);
}

}  // namespace
