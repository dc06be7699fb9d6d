// word2vec with fastText's character n-grams (Word2VecOptions minn, maxn, bucket): one-thread
// results pinned by digest, a word's vector as the mean of its rows (what fastText computes from
// the .bin), the n-gram rows trained, and the options fastText's rules refuse.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/word2vec.hpp"
#include "models/corpus_files.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace M = embedkit::models;
using embedkit_models_test::two_group_corpus;
using embedkit_test::TempDir;
using embedkit_test::write_file;

constexpr std::int64_t kBucket = 5000;

M::Word2VecOptions subword_options(M::Word2VecArchitecture architecture, M::Word2VecLoss loss) {
  M::Word2VecOptions o;
  o.architecture = architecture;
  o.loss = loss;
  o.dim = 16;
  o.window = 3;
  o.negative = 3;
  o.min_count = 1;
  o.sample = 0;
  o.epochs = 3;
  o.seed = 3;
  o.threads = 1;
  o.minn = 2;
  o.maxn = 4;
  o.bucket = kBucket;
  return o;
}

// FNV-1a over the bytes of the floats (little endian) and of the final loss.
std::uint64_t digest(const M::Word2VecResult& r) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto bytes = [&h](const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ULL;
    }
  };
  for (const embedkit::Tensor* t : {&r.vectors, &r.input, &r.output}) {
    bytes(t->data<float>(), static_cast<std::size_t>(t->numel()) * sizeof(float));
  }
  bytes(&r.final_loss, sizeof r.final_loss);
  return h;
}

const float* row(const embedkit::Tensor& t, std::int64_t r) {
  return t.data<float>() + r * t.size(1);
}

// The n-gram rows of `word` (after the v word rows), as fastText lists them.
std::vector<std::int64_t> ngram_rows(const std::string& word, std::int64_t v,
                                     const M::Word2VecOptions& o) {
  std::vector<std::int64_t> buckets;
  M::append_char_ngram_buckets("<" + word + ">", o.minn, o.maxn, o.bucket, buckets);
  for (std::int64_t& b : buckets) b += v;
  return buckets;
}

double cosine(const std::vector<float>& x, const std::vector<float>& y) {
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t d = 0; d < x.size(); ++d) {
    xy += double(x[d]) * y[d];
    xx += double(x[d]) * x[d];
    yy += double(y[d]) * y[d];
  }
  return xy / std::sqrt(xx * yy);
}

struct PinnedCase {
  const char* name;
  M::Word2VecArchitecture architecture;
  M::Word2VecLoss loss;
  std::uint64_t digest;
};

class SubwordPinned : public ::testing::TestWithParam<PinnedCase> {};

// One thread: the same corpus, options and seed give the same bytes (vectors, the whole input
// table, the output table, the loss), with and without a progress callback. A change meant to
// move them updates the digests and says so.
TEST_P(SubwordPinned, OneThreadResultsAreBitwiseUnchanged) {
  const PinnedCase& c = GetParam();
  TempDir dir;
  write_file(dir / "corpus.txt", two_group_corpus(150, 8, 7));
  M::Word2VecOptions o = subword_options(c.architecture, c.loss);
  const std::uint64_t plain = digest(M::train_word2vec(dir / "corpus.txt", o));
  EXPECT_EQ(plain, c.digest) << std::hex << "0x" << plain << " for " << c.name;
  o.progress_interval = 1e-6;
  const std::uint64_t reported =
      digest(M::train_word2vec(dir / "corpus.txt", o, [](const M::Word2VecProgress&) {}));
  EXPECT_EQ(reported, c.digest) << std::hex << "0x" << reported << " with on_progress";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SubwordPinned,
    ::testing::Values(PinnedCase{"skipgram_ns", M::Word2VecArchitecture::SkipGram,
                                 M::Word2VecLoss::NegativeSampling, 0xf29093fa04f9fbba},
                      PinnedCase{"skipgram_hs", M::Word2VecArchitecture::SkipGram,
                                 M::Word2VecLoss::HierarchicalSoftmax, 0xfc0049ba8509fff},
                      PinnedCase{"cbow_ns", M::Word2VecArchitecture::Cbow,
                                 M::Word2VecLoss::NegativeSampling, 0xf144ac998ebb4a52}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

class SubwordTraining : public ::testing::TestWithParam<M::Word2VecArchitecture> {};

// A dictionary word's vector is the mean of its own row and its n-gram rows, bitwise what
// fastText computes from the model file; a word never seen gets the mean of its n-gram rows,
// which share most n-grams with the word it resembles.
TEST_P(SubwordTraining, WordVectorsAreTheMeanOfTheirRows) {
  TempDir dir;
  write_file(dir / "corpus.txt", two_group_corpus(300, 8, 11));
  const M::Word2VecOptions o = subword_options(GetParam(), M::Word2VecLoss::NegativeSampling);
  const M::Word2VecResult r = M::train_word2vec(dir / "corpus.txt", o);
  const std::int64_t v = r.dictionary.words().size();
  ASSERT_TRUE(r.input.defined());
  ASSERT_EQ(r.input.size(0), v + kBucket);
  const M::FastTextModel model(M::FastTextModel::from_word2vec(r, o));
  EXPECT_EQ(model.args().minn, 2);
  EXPECT_EQ(model.args().maxn, 4);
  EXPECT_EQ(model.args().bucket, kBucket);
  for (std::int64_t i = 0; i < v; ++i) {
    const std::string& word = r.dictionary.words().text(i);
    const std::vector<float> expected = model.word_vector(word);
    ASSERT_EQ(0, std::memcmp(expected.data(), row(r.vectors, i), expected.size() * sizeof(float)))
        << word;
    // Its own row first, then its n-grams'.
    std::vector<std::int64_t> rows{i};
    const std::vector<std::int64_t> ngrams = ngram_rows(word, v, o);
    rows.insert(rows.end(), ngrams.begin(), ngrams.end());
    EXPECT_EQ(model.subword_rows(word), rows) << word;
  }
  // Out of the vocabulary: the mean of the n-gram rows alone, summed in order.
  const std::string unseen = "apples";
  ASSERT_FALSE(r.dictionary.words().find(unseen));
  const std::vector<std::int64_t> rows = ngram_rows(unseen, v, o);
  ASSERT_FALSE(rows.empty());
  std::vector<float> mean(static_cast<std::size_t>(o.dim), 0.0f);
  for (const std::int64_t rr : rows) {
    for (std::size_t d = 0; d < mean.size(); ++d) mean[d] += row(r.input, rr)[d];
  }
  for (float& x : mean) x *= static_cast<float>(1.0 / static_cast<double>(rows.size()));
  const std::vector<float> oov = model.word_vector(unseen);
  EXPECT_EQ(oov, mean);
  const std::vector<float> apple = model.word_vector("apple");
  EXPECT_GT(cosine(oov, apple), cosine(oov, model.word_vector("hammer")));
  EXPECT_GT(cosine(oov, apple), 0.5);
}

// Every row of a word's bag is trained: against the same run with a learning rate too small to
// move anything (the starting table), every n-gram row of a dictionary word has moved, and the
// buckets no word hashes to have not.
TEST_P(SubwordTraining, EveryNgramRowReceivesGradient) {
  TempDir dir;
  write_file(dir / "corpus.txt", two_group_corpus(150, 8, 5));
  M::Word2VecOptions o = subword_options(GetParam(), M::Word2VecLoss::NegativeSampling);
  const M::Word2VecResult trained = M::train_word2vec(dir / "corpus.txt", o);
  o.alpha = 1e-30;
  const M::Word2VecResult start = M::train_word2vec(dir / "corpus.txt", o);
  const std::int64_t v = trained.dictionary.words().size();
  const auto bytes = static_cast<std::size_t>(o.dim) * sizeof(float);
  std::vector<bool> used(static_cast<std::size_t>(v + kBucket), false);
  for (std::int64_t i = 0; i < v; ++i) {
    used[static_cast<std::size_t>(i)] = true;
    for (const std::int64_t r : ngram_rows(trained.dictionary.words().text(i), v, o)) {
      used[static_cast<std::size_t>(r)] = true;
    }
  }
  std::int64_t moved = 0, untouched = 0;
  for (std::int64_t r = 0; r < v + kBucket; ++r) {
    const bool same = std::memcmp(row(trained.input, r), row(start.input, r), bytes) == 0;
    if (used[static_cast<std::size_t>(r)]) {
      EXPECT_FALSE(same) << "row " << r << " of a word's bag did not move";
      moved += !same;
    } else {
      EXPECT_TRUE(same) << "row " << r << " that no word uses moved";
      untouched += same;
    }
  }
  EXPECT_GT(moved, 2 * v);  // n-gram rows, not only word rows
  EXPECT_GT(untouched, 0);
}

// Hogwild with subwords (two threads): not reproducible, but it sees every word, learns the
// groups, and each word's vector is still the mean of its rows.
TEST_P(SubwordTraining, TwoThreadsLearnToo) {
  TempDir dir;
  write_file(dir / "corpus.txt", two_group_corpus(400, 12, 2));
  M::Word2VecOptions o = subword_options(GetParam(), M::Word2VecLoss::NegativeSampling);
  o.threads = 2;
  o.epochs = 5;
  const M::Word2VecResult r = M::train_word2vec(dir / "corpus.txt", o);
  EXPECT_EQ(r.words_trained, 5 * 400 * 12);
  const M::FastTextModel model(M::FastTextModel::from_word2vec(r, o));
  const std::int64_t apple = *r.dictionary.words().find("apple");
  EXPECT_EQ(model.word_vector("apple"),
            std::vector<float>(row(r.vectors, apple), row(r.vectors, apple) + o.dim));
  EXPECT_GT(cosine(model.word_vector("apple"), model.word_vector("banana")),
            cosine(model.word_vector("apple"), model.word_vector("hammer")));
}

INSTANTIATE_TEST_SUITE_P(Architectures, SubwordTraining,
                         ::testing::Values(M::Word2VecArchitecture::SkipGram,
                                           M::Word2VecArchitecture::Cbow),
                         [](const auto& param_info) {
                           return param_info.param == M::Word2VecArchitecture::Cbow ? "cbow"
                                                                                    : "skipgram";
                         });

// maxn 0 turns subwords off whatever minn and bucket say (fastText's rule): the result is
// word2vec's, bitwise, with no n-gram table.
TEST(SubwordOptions, MaxnZeroIsWord2Vec) {
  TempDir dir;
  write_file(dir / "corpus.txt", two_group_corpus(100, 8, 3));
  M::Word2VecOptions o =
      subword_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  o.minn = 0;
  o.maxn = 0;
  const M::Word2VecResult plain = M::train_word2vec(dir / "corpus.txt", o);
  o.minn = 3;
  o.bucket = 0;
  const M::Word2VecResult off = M::train_word2vec(dir / "corpus.txt", o);
  EXPECT_FALSE(off.input.defined());
  ASSERT_EQ(plain.vectors.numel(), off.vectors.numel());
  EXPECT_EQ(0, std::memcmp(plain.vectors.data<float>(), off.vectors.data<float>(),
                           static_cast<std::size_t>(plain.vectors.numel()) * sizeof(float)));
  // Its fastText file has no subwords: fastText gives each word its vector.
  const M::FastTextModel model(M::FastTextModel::from_word2vec(off, o));
  EXPECT_EQ(model.args().maxn, 0);
  EXPECT_EQ(model.args().bucket, 0);
  EXPECT_EQ(model.word_vector("apple"),
            std::vector<float>(row(off.vectors, *off.dictionary.words().find("apple")),
                               row(off.vectors, *off.dictionary.words().find("apple")) + o.dim));
}

void expect_refused(const M::Word2VecOptions& o, const std::string& message) {
  try {
    o.validate();
    ADD_FAILURE() << "accepted; expected: " << message;
  } catch (const embedkit::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

// fastText's rules, each refused by name before any work.
TEST(SubwordOptions, BadOptionsAreRefused) {
  const M::Word2VecOptions good =
      subword_options(M::Word2VecArchitecture::SkipGram, M::Word2VecLoss::NegativeSampling);
  EXPECT_NO_THROW(good.validate());
  M::Word2VecOptions o = good;
  o.bucket = 0;
  expect_refused(o, "bucket must be >= 1 with subwords (maxn > 0)");
  o = good;
  o.minn = 5;
  o.maxn = 4;
  expect_refused(o, "maxn must be >= minn, got minn 5 and maxn 4");
  o = good;
  o.minn = 0;
  expect_refused(o, "minn must be >= 1 with subwords (maxn > 0), got 0");
  o = good;
  o.maxn = -1;
  expect_refused(o, "maxn must be >= 0 (0: no subwords), got -1");
  o = good;
  o.minn = -2;
  o.maxn = 0;
  expect_refused(o, "minn must be >= 0, got -2");
  o = good;
  o.bucket = -5;
  o.maxn = 0;
  expect_refused(o, "bucket must be >= 0, got -5");
  o = good;
  o.bucket = std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
  expect_refused(o, "bucket must be <= 2147483647");
  // A refused option fails training before the corpus is read.
  TempDir dir;
  o = good;
  o.bucket = 0;
  EXPECT_THROW(M::train_word2vec(dir / "missing.txt", o), embedkit::ValueError);
}

// The fastText file keeps the training arguments fastText reads back.
TEST(SubwordOptions, ModelFileKeepsTheArguments) {
  TempDir dir;
  write_file(dir / "corpus.txt", two_group_corpus(100, 8, 3));
  M::Word2VecOptions o =
      subword_options(M::Word2VecArchitecture::Cbow, M::Word2VecLoss::HierarchicalSoftmax);
  const M::Word2VecResult r = M::train_word2vec(dir / "corpus.txt", o);
  const embedkit::io::FastTextModelFile f = M::FastTextModel::from_word2vec(r, o);
  EXPECT_EQ(f.args.model, embedkit::io::FastTextModelType::Cbow);
  EXPECT_EQ(f.args.loss, embedkit::io::FastTextLoss::HierarchicalSoftmax);
  EXPECT_EQ(f.args.dim, 16);
  EXPECT_EQ(f.args.ws, 3);
  EXPECT_EQ(f.args.epoch, 3);
  EXPECT_EQ(f.args.min_count, 1);
  EXPECT_EQ(f.args.word_ngrams, 1);
  EXPECT_EQ(f.args.minn, 2);
  EXPECT_EQ(f.args.maxn, 4);
  EXPECT_EQ(f.args.bucket, kBucket);
  EXPECT_EQ(f.dictionary.tokens, r.corpus.tokens);
  // hs: one output row per inner node, padded to fastText's one per word.
  EXPECT_EQ(f.output.size(0), r.dictionary.words().size());
  EXPECT_EQ(r.output.size(0), r.dictionary.words().size() - 1);
  // Read back from its bytes, the same model.
  const std::string bytes = embedkit::io::serialize_fasttext_model(f);
  const embedkit::io::FastTextModelFile back = embedkit::io::parse_fasttext_model(
      {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  EXPECT_EQ(M::FastTextModel(back).word_vector("applesauce"),
            M::FastTextModel(f).word_vector("applesauce"));
}

}  // namespace
