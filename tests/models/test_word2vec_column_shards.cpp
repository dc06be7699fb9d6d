// word2vec over column shards (Word2VecColumnShards) without MPI: the processes are threads of
// this test (column_shards_in_process.hpp). One part learns what word2vec learns; P parts train
// one model, which differs from one part's only by the order in which each score's columns are
// added; and what the shards cannot train is refused. The MPI side
// (dist::train_word2vec_by_columns, `mpirun embedkit train --distribute columns`) is tested in
// tests/dist.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <span>
#include <tuple>

#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/models/word2vec.hpp"
#include "models/column_shards_in_process.hpp"
#include "models/corpus_files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace M = embedkit::models;
using embedkit_models_test::kGroupA;
using embedkit_models_test::kGroupB;
using embedkit_models_test::side_by_side;
using embedkit_models_test::train_column_parts;
using embedkit_models_test::two_group_corpus;
using embedkit_test::TempDir;
using embedkit_test::write_file;

M::Word2VecOptions options(M::Word2VecArchitecture arch, M::Word2VecLoss loss) {
  M::Word2VecOptions o;
  o.architecture = arch;
  o.loss = loss;
  o.dim = 16;
  o.window = 3;
  o.min_count = 1;
  o.sample = 1e-2;
  o.epochs = 3;
  o.seed = 7;
  return o;
}

double cosine(const embedkit::Tensor& v, std::int64_t a, std::int64_t b) {
  const auto dim = static_cast<std::size_t>(v.size(1));
  const float* x = v.data<float>() + static_cast<std::size_t>(a) * dim;
  const float* y = v.data<float>() + static_cast<std::size_t>(b) * dim;
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t d = 0; d < dim; ++d) {
    xy += double(x[d]) * y[d];
    xx += double(x[d]) * x[d];
    yy += double(y[d]) * y[d];
  }
  return xy / std::sqrt(xx * yy);
}

// Every same-group pair closer than every cross-group pair.
void expect_groups_separated(const M::Dictionary& dictionary, const embedkit::Tensor& vectors) {
  const auto id = [&](const std::string& w) { return dictionary.words().at(w); };
  double min_within = 2, max_across = -2;
  for (const auto* g : {&kGroupA, &kGroupB}) {
    for (std::size_t i = 0; i < g->size(); ++i) {
      for (std::size_t j = i + 1; j < g->size(); ++j) {
        min_within = std::min(min_within, cosine(vectors, id((*g)[i]), id((*g)[j])));
      }
    }
  }
  for (const auto& a : kGroupA) {
    for (const auto& b : kGroupB) max_across = std::max(max_across, cosine(vectors, id(a), id(b)));
  }
  EXPECT_GT(min_within, max_across)
      << "closest cross-group pair " << max_across << ", farthest same-group pair " << min_within;
}

float max_abs_difference(const embedkit::Tensor& a, const embedkit::Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  float most = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    most = std::max(most, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
  }
  return most;
}

// (architecture, loss, subwords)
class ColumnShards
    : public ::testing::TestWithParam<std::tuple<M::Word2VecArchitecture, M::Word2VecLoss, bool>> {
};

M::Word2VecOptions options(const std::tuple<M::Word2VecArchitecture, M::Word2VecLoss, bool>& p) {
  M::Word2VecOptions o = options(std::get<0>(p), std::get<1>(p));
  if (std::get<2>(p)) {
    o.minn = 2;
    o.maxn = 3;
    o.bucket = 100;
  }
  return o;
}

// One part: every column, the scores of a batch of 24 words (two sentences) taken before its
// updates. It learns the planted structure, deterministically, and its tables have every
// column (with subwords: the vectors, each word's rows averaged, and the whole input table).
TEST_P(ColumnShards, OnePartLearnsThePlantedStructure) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(400, 12, 1));
  const M::Word2VecOptions o = options(GetParam());
  const auto one = train_column_parts(dir / "c.txt", o, 1, 24);
  EXPECT_EQ(one[0].vectors.size(1), 16);
  EXPECT_EQ(one[0].output.size(1), 16);
  EXPECT_EQ(one[0].input.defined(), o.subwords());
  EXPECT_EQ(one[0].words_trained, 3 * 400 * 12);
  EXPECT_TRUE(std::isfinite(one[0].final_loss));
  expect_groups_separated(one[0].dictionary, one[0].vectors);
  const auto again = train_column_parts(dir / "c.txt", o, 1, 24);
  EXPECT_EQ(
      std::memcmp(one[0].vectors.raw_data(), again[0].vectors.raw_data(), one[0].vectors.nbytes()),
      0);
}

// P parts hold 16 * p / P .. 16 * (p + 1) / P columns each (uneven at P = 3) and train one model:
// side by side, their tables are one part's up to the rounding of a score's columns added in
// another order, every part sees the same loss, and the words and the structure are the same.
// The tolerance: a score's rounding moves a coefficient only where it crosses one of the sigmoid
// table's steps, and the tables end within 2e-4 of one part's here; a column left out of the
// scores or of the updates moves them by far more (such a change fails this test).
TEST_P(ColumnShards, PartsTrainOneModel) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(400, 12, 2));
  const M::Word2VecOptions o = options(GetParam());
  const auto one = train_column_parts(dir / "c.txt", o, 1, 24);
  for (int parts : {2, 3}) {
    SCOPED_TRACE(testing::Message() << parts << " parts");
    const auto many = train_column_parts(dir / "c.txt", o, parts, 24);
    std::int64_t columns = 0;
    for (int p = 0; p < parts; ++p) {
      const auto& r = many[static_cast<std::size_t>(p)];
      EXPECT_EQ(r.vectors.size(1), 16 * (p + 1) / parts - 16 * p / parts);
      columns += r.vectors.size(1);
      EXPECT_EQ(r.final_loss, many[0].final_loss) << "part " << p;
      EXPECT_EQ(r.words_trained, one[0].words_trained);
    }
    EXPECT_EQ(columns, 16);
    const embedkit::Tensor vectors = side_by_side(many, &M::Word2VecResult::vectors);
    EXPECT_LT(max_abs_difference(vectors, one[0].vectors), 1e-3f);
    EXPECT_LT(max_abs_difference(side_by_side(many, &M::Word2VecResult::output), one[0].output),
              1e-3f);
    if (o.subwords()) {
      EXPECT_LT(max_abs_difference(side_by_side(many, &M::Word2VecResult::input), one[0].input),
                1e-3f);
    }
    EXPECT_NEAR(many[0].final_loss, one[0].final_loss, 1e-4);
    expect_groups_separated(many[0].dictionary, vectors);
  }
}

// A process's threads split its columns: 2 and 3 threads (uneven slices of 16 columns, and of a
// part's 8 at two parts) give the same bits run after run and whatever the kernel pool's size
// (one pool thread runs the slices in turn), and one thread's model up to the rounding of a
// score's columns added in another order.
TEST_P(ColumnShards, ThreadsSplitTheColumnsReproducibly) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(400, 12, 3));
  M::Word2VecOptions o = options(GetParam());
  const auto one = train_column_parts(dir / "c.txt", o, 1, 24);
  for (int parts : {1, 2}) {
    for (std::int64_t threads : {2, 3}) {
      SCOPED_TRACE(testing::Message() << parts << " parts, " << threads << " threads");
      o.threads = threads;
      const auto a = train_column_parts(dir / "c.txt", o, parts, 24);
      const auto b = train_column_parts(dir / "c.txt", o, parts, 24);
      // The pool at one thread runs the slices one after the other: the same bits.
      const int pool = embedkit::get_num_threads();
      embedkit::set_num_threads(1);
      const auto serial = train_column_parts(dir / "c.txt", o, parts, 24);
      embedkit::set_num_threads(pool);
      const embedkit::Tensor vectors = side_by_side(a, &M::Word2VecResult::vectors);
      EXPECT_EQ(max_abs_difference(vectors, side_by_side(b, &M::Word2VecResult::vectors)), 0.0f);
      EXPECT_EQ(max_abs_difference(vectors, side_by_side(serial, &M::Word2VecResult::vectors)),
                0.0f);
      EXPECT_EQ(a[0].final_loss, b[0].final_loss);
      EXPECT_EQ(a[0].words_trained, one[0].words_trained);
      EXPECT_LT(max_abs_difference(vectors, one[0].vectors), 1e-3f);
      expect_groups_separated(a[0].dictionary, vectors);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, ColumnShards,
                         ::testing::Combine(::testing::Values(M::Word2VecArchitecture::SkipGram,
                                                              M::Word2VecArchitecture::Cbow),
                                            ::testing::Values(M::Word2VecLoss::NegativeSampling,
                                                              M::Word2VecLoss::HierarchicalSoftmax),
                                            ::testing::Bool()));

// A sentence of one word repeated 1000 times uses its rows thousands of times in one batch; the
// batch ends as soon as a row has been used 128 times, within the sentence, so training does not
// diverge on it (a batch ending only at sentences' ends did: TrainingDivergedError in epoch 2),
// as one process's training does not.
TEST(ColumnShardsHostile, ASentenceOfOneWordRepeatedTrains) {
  TempDir dir;
  std::string text = two_group_corpus(2000, 10, 4);
  for (int i = 0; i < 5; ++i) {
    for (int k = 0; k < 1000; ++k) text += k == 0 ? "ha" : " ha";
    text += '\n';
  }
  write_file(dir / "c.txt", text);
  M::Word2VecOptions o =
      options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  o.sample = 0;
  o.window = 5;
  o.negative = 5;
  const M::Word2VecResult alone = M::train_word2vec(dir / "c.txt", o);
  EXPECT_TRUE(std::isfinite(alone.final_loss));
  expect_groups_separated(alone.dictionary, alone.vectors);
  const auto parts = train_column_parts(dir / "c.txt", o, 2, 1000);
  EXPECT_TRUE(std::isfinite(parts[0].final_loss));
  expect_groups_separated(parts[0].dictionary, side_by_side(parts, &M::Word2VecResult::vectors));
}

TEST(ColumnShardsRefused, WhatTheShardsCannotTrain) {
  TempDir dir;
  write_file(dir / "c.txt", two_group_corpus(20, 5, 3));
  const M::Word2VecOptions good =
      options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  auto refused = [&](M::Word2VecOptions o, M::Word2VecColumnShards shards,
                     const std::string& expected,
                     const M::Word2VecDataParallel* parallel = nullptr) {
    SCOPED_TRACE(expected);
    try {
      M::train_word2vec(dir / "c.txt", o, {}, parallel, &shards);
      ADD_FAILURE() << "not refused";
    } catch (const embedkit::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  auto shards = [](std::int64_t part, std::int64_t parts, std::int64_t batch_words) {
    M::Word2VecColumnShards s;
    s.part = part;
    s.parts = parts;
    s.batch_words = batch_words;
    return s;
  };
  refused(good, shards(2, 2, 1000), "column shard 2 of 2 does not exist");
  refused(good, shards(0, 17, 1000), "a shard needs at least one column");
  refused(good, shards(0, 1, 0), "batch_words must be >= 1");
  M::Word2VecDataParallel parallel;
  parallel.synchronize = [](std::span<float>, std::span<float>, std::span<double>) {};
  refused(good, {}, "not both", &parallel);
}

}  // namespace
