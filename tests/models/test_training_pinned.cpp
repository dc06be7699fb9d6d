// The outputs of one-thread training are pinned: word2vec's vectors (skip-gram and CBOW, negative
// sampling and hierarchical softmax) and the text classifier's model file and predictions
// (softmax, ns and hs, with word n-grams), each reduced to a 64-bit digest of its bytes.
//
// With threads == 1 training is documented to be bitwise reproducible, and these digests hold a
// change of the training code (a refactor, a new loss or runner) to that: the same corpus, options
// and seed must give the same bytes. A change meant to move results updates the digests and says
// so. The build turns floating-point contraction off (-ffp-contract=off), so the digests do not
// depend on whether the target has fused multiply-add.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "embedkit/models/text_classifier.hpp"
#include "embedkit/models/word2vec.hpp"
#include "models/classify_test_support.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace M = embedkit::models;
using embedkit_classify_test::Lcg;
using embedkit_classify_test::tok;
using embedkit_test::TempDir;
using embedkit_test::write_file;

// FNV-1a, 64 bits: enough to tell two outputs apart, and simple enough to write down here.
class Digest {
 public:
  void bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      h_ ^= p[i];
      h_ *= 0x100000001b3ULL;
    }
  }
  void floats(const float* data, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t bits;
      std::memcpy(&bits, &data[i], sizeof bits);
      for (int k = 0; k < 4; ++k) {
        const auto b = static_cast<unsigned char>(bits >> (8 * k));  // little endian everywhere
        bytes(&b, 1);
      }
    }
  }
  void number(double x) {
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    for (int k = 0; k < 8; ++k) {
      const auto b = static_cast<unsigned char>(bits >> (8 * k));
      bytes(&b, 1);
    }
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

// A corpus with a skewed (roughly Zipf) word distribution, so that subsampling drops words, the
// Huffman tree has paths of many lengths and the negative sampler's table is not uniform; lines
// of varying length, some longer than word2vec's 1000-word sentence limit.
std::string zipf_corpus() {
  Lcg rng{2024};
  std::string text;
  for (int line = 0; line < 300; ++line) {
    const std::uint64_t length = line % 97 == 5 ? 1500 : 3 + rng.next() % 30;
    for (std::uint64_t w = 0; w < length; ++w) {
      // Uniform below a uniform bound: word k is drawn with probability about log(150 / k) / 150.
      // Two statements: the order of two draws in one expression is unspecified.
      const std::uint64_t draw = rng.next();
      const std::uint64_t bound = 1 + rng.next() % 150;
      const std::uint64_t word = draw % bound;
      if (w) text += ' ';
      text += tok("w", word);
    }
    text += '\n';
  }
  return text;
}

struct Word2VecCase {
  const char* name;
  M::Word2VecArchitecture architecture;
  M::Word2VecLoss loss;
  bool gensim_schedule;  // min_alpha set
  std::uint64_t digest;
};

// Re-recorded when the input vectors' start widened to [-1, 1) / dim (gensim's and fastText's).
class Word2VecPinned : public ::testing::TestWithParam<Word2VecCase> {};

TEST_P(Word2VecPinned, OneThreadVectorsAreBitwiseUnchanged) {
  const Word2VecCase& c = GetParam();
  TempDir dir;
  write_file(dir / "corpus.txt", zipf_corpus());
  M::Word2VecOptions o;
  o.architecture = c.architecture;
  o.loss = c.loss;
  o.dim = 24;
  o.window = 4;
  o.negative = 4;
  o.min_count = 2;
  o.sample = 1e-2;
  o.epochs = 3;
  o.seed = 11;
  o.threads = 1;
  if (c.gensim_schedule) o.min_alpha = 0.001;
  auto digest = [](const M::Word2VecResult& r) {
    Digest d;
    d.floats(r.vectors.data<float>(), static_cast<std::size_t>(r.vectors.numel()));
    for (const std::string& w : r.dictionary.words().texts()) d.bytes(w.data(), w.size() + 1);
    d.number(r.final_loss);
    return d.value();
  };
  const std::uint64_t plain = digest(M::train_word2vec(dir / "corpus.txt", o));
  EXPECT_EQ(plain, c.digest) << std::hex << "0x" << plain << " for " << c.name;
  // A progress callback moves training off the calling thread; the result stays the same.
  o.progress_interval = 1e-6;
  const std::uint64_t reported =
      digest(M::train_word2vec(dir / "corpus.txt", o, [](const M::Word2VecProgress&) {}));
  EXPECT_EQ(reported, c.digest) << std::hex << "0x" << reported << " with on_progress";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Word2VecPinned,
    ::testing::Values(Word2VecCase{"skipgram_ns", M::Word2VecArchitecture::SkipGram,
                                   M::Word2VecLoss::NegativeSampling, false, 0x11337e6fa617f215},
                      Word2VecCase{"skipgram_hs", M::Word2VecArchitecture::SkipGram,
                                   M::Word2VecLoss::HierarchicalSoftmax, false, 0x601717b529d87909},
                      Word2VecCase{"cbow_ns", M::Word2VecArchitecture::Cbow,
                                   M::Word2VecLoss::NegativeSampling, false, 0x208ea5e04b976b},
                      Word2VecCase{"cbow_hs", M::Word2VecArchitecture::Cbow,
                                   M::Word2VecLoss::HierarchicalSoftmax, false, 0xfeaf9e7863ae25ed},
                      Word2VecCase{"skipgram_ns_min_alpha", M::Word2VecArchitecture::SkipGram,
                                   M::Word2VecLoss::NegativeSampling, true, 0xfd8e978746c1c2d8}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// Labelled lines: each of `labels` classes has its keywords, every line some shared words, and
// every seventh line a second label, so that the one-of-several-labels draw is exercised too.
std::vector<M::LabelledExample> labelled_lines(std::size_t count, std::size_t labels) {
  Lcg rng{77};
  std::vector<M::LabelledExample> out;
  for (std::size_t i = 0; i < count; ++i) {
    M::LabelledExample e;
    const std::size_t c = rng.next() % labels;
    e.labels.push_back(tok("c", c));
    if (i % 7 == 3) e.labels.push_back(tok("c", (c + 1) % labels));
    const std::uint64_t words = 2 + rng.next() % 9;
    for (std::uint64_t w = 0; w < words; ++w) {
      e.words.push_back(rng.next() % 3 == 0 ? tok("k", c * 4 + rng.next() % 4)
                                            : tok("s", rng.next() % 40));
    }
    e.line = static_cast<std::int64_t>(i + 1);
    out.push_back(std::move(e));
  }
  return out;
}

struct ClassifierCase {
  const char* name;
  M::ClassifierLoss loss;
  std::uint64_t file_digest;
  std::uint64_t predictions_digest;
  std::int64_t maxn = 0;  // > 0: subwords of 2..maxn characters
};

class ClassifierPinned : public ::testing::TestWithParam<ClassifierCase> {};

TEST_P(ClassifierPinned, OneThreadModelAndPredictionsAreBitwiseUnchanged) {
  const ClassifierCase& c = GetParam();
  const std::vector<M::LabelledExample> train = labelled_lines(600, 6);
  M::ClassifierOptions o;
  o.loss = c.loss;
  o.dim = 12;
  o.lr = 0.3;
  o.epochs = 4;
  o.word_ngrams = 2;
  o.buckets = 500;
  o.negative = 3;
  o.threads = 1;
  o.seed = 5;
  if (c.maxn > 0) {
    o.minn = 2;
    o.maxn = c.maxn;
  }
  M::ClassifierTrainStats stats;
  const M::TextClassifier model = M::TextClassifier::train(train, o, &stats);

  TempDir dir;
  auto file_digest = [&dir](const M::TextClassifier& m, double final_loss) {
    m.save(dir / "model.safetensors");
    const std::string bytes = embedkit_test::read_file(dir / "model.safetensors");
    Digest d;
    d.bytes(bytes.data(), bytes.size());
    d.number(final_loss);
    return d.value();
  };
  const std::uint64_t file = file_digest(model, stats.final_loss);
  EXPECT_EQ(file, c.file_digest) << std::hex << "0x" << file << " for " << c.name;
  // A progress callback moves training off the calling thread; the model stays the same.
  // (progress_interval is not saved.)
  M::ClassifierOptions reporting = o;
  reporting.progress_interval = 1e-6;
  M::ClassifierTrainStats reported_stats;
  const M::TextClassifier reported_model = M::TextClassifier::train(
      train, reporting, &reported_stats, [](const M::ClassifierProgress&) {});
  const std::uint64_t reported = file_digest(reported_model, reported_stats.final_loss);
  EXPECT_EQ(reported, c.file_digest) << std::hex << "0x" << reported << " with on_progress";

  Digest predictions;
  for (const M::LabelledExample& e : labelled_lines(50, 7)) {  // label c6 and unseen words too
    for (const M::LabelScore& s : model.predict(e.words, 3)) {
      predictions.number(static_cast<double>(s.label));
      predictions.number(s.probability);
    }
  }
  EXPECT_EQ(predictions.value(), c.predictions_digest)
      << std::hex << "0x" << predictions.value() << " for " << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ClassifierPinned,
    ::testing::Values(ClassifierCase{"softmax", M::ClassifierLoss::Softmax, 0x941b2695a981e68f,
                                     0xaa0ce18546cdf3ab},
                      ClassifierCase{"ns", M::ClassifierLoss::NegativeSampling, 0xa30560a0e22a49fe,
                                     0x55db1a3b24b7b835},
                      ClassifierCase{"hs", M::ClassifierLoss::HierarchicalSoftmax,
                                     0xd6801bc56247af12, 0xf582aa7c5a5aa6dc},
                      ClassifierCase{"softmax_subwords", M::ClassifierLoss::Softmax,
                                     0xa0fe89e9fa6b66b6, 0x1c593b136d32a122, 4}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
