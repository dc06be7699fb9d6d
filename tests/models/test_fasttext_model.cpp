// models::FastTextModel on models built by hand (the comparisons with fastText itself are in
// tests/interop): word vectors as means of rows, the line's rows, predictions, and the models
// that cannot be queried or written.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models {
namespace {

Tensor counting(std::int64_t rows, std::int64_t cols) {
  Tensor t = Tensor::empty({rows, cols});
  for (std::int64_t i = 0; i < rows * cols; ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

// Unsupervised, dim 2, words "</s>", "ab"; character n-grams of 2..3 into 5 buckets.
io::FastTextModelFile with_subwords() {
  io::FastTextModelFile f;
  f.args.dim = 2;
  f.args.minn = 2;
  f.args.maxn = 3;
  f.args.bucket = 5;
  f.dictionary.words = {{"</s>", 3}, {"ab", 2}};
  f.input = counting(7, 2);
  f.output = counting(2, 2);
  return f;
}

TEST(FastTextModel, WordVectorsAreMeansOfTheWordAndItsNgramRows) {
  const FastTextModel m(with_subwords());
  // "<ab>": n-grams "<a", "<ab", "ab", "ab>", "b>" (n = 2, 3), each bucket after the 2 words.
  std::vector<std::int64_t> expected = {1};
  for (const char* g : {"<a", "<ab", "ab", "ab>", "b>"}) expected.push_back(2 + word_hash(g) % 5);
  EXPECT_EQ(m.subword_rows("ab"), expected);
  std::vector<float> mean(2, 0.0f);
  for (const std::int64_t r : expected) {
    mean[0] += static_cast<float>(2 * r);
    mean[1] += static_cast<float>(2 * r + 1);
  }
  for (float& x : mean) x *= static_cast<float>(1.0 / 6.0);
  EXPECT_EQ(m.word_vector("ab"), mean);
  // "</s>" has no n-grams; an unseen word has its n-grams only.
  EXPECT_EQ(m.subword_rows("</s>"), std::vector<std::int64_t>{0});
  EXPECT_EQ(m.subword_rows("zz").size(), 5u);
  EXPECT_FALSE(m.word_id("zz"));
  const io::WordVectors all = m.word_vectors();
  EXPECT_EQ(all.words, (std::vector<std::string>{"</s>", "ab"}));
  EXPECT_THROW((void)m.predict({"ab"}, 1), ValueError);  // unsupervised
}

TEST(FastTextModel, SupervisedSoftmaxPredictsTheBestScoringLabel) {
  io::FastTextModelFile f;
  f.args.dim = 2;
  f.args.model = io::FastTextModelType::Supervised;
  f.args.loss = io::FastTextLoss::Softmax;
  f.args.minn = f.args.maxn = f.args.bucket = 0;
  f.dictionary.words = {{"</s>", 2}, {"up", 1}, {"down", 1}};
  f.dictionary.labels = {{"__label__up", 1}, {"__label__down", 1}};
  f.input = Tensor::from_floats({0, 0, 4, 0, -4, 0}, {3, 2});
  f.output = Tensor::from_floats({1, 0, -1, 0}, {2, 2});
  const FastTextModel m(std::move(f));
  // "up" + "</s>": hidden (2, 0); scores 2, -2; softmax 1 / (1 + e^-4).
  EXPECT_EQ(m.line_rows({"up"}), (std::vector<std::int64_t>{1, 0}));
  const auto p = m.predict({"up"}, 2);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].text, "__label__up");
  const double top = 1.0 / (1.0 + std::exp(-4.0));
  EXPECT_NEAR(p[0].probability, top + 1e-5, 1e-6);  // what predict-prob prints
  EXPECT_EQ(p[1].text, "__label__down");
  EXPECT_EQ(m.predict({"down"}, 1).at(0).text, "__label__down");
  EXPECT_EQ(m.predict({"up"}, 2, 0.5).size(), 1u);  // the threshold cuts the second
  EXPECT_EQ(m.sentence_vector({"up"}), (std::vector<float>{2, 0}));
}

TEST(FastTextModel, RefusesModelsItCannotQuery) {
  io::FastTextModelFile f = with_subwords();
  f.input = counting(6, 2);
  EXPECT_THROW(FastTextModel{f}, ValueError);
  f = with_subwords();
  f.dictionary.words[1].text = "</s>";
  EXPECT_THROW(FastTextModel{f}, ValueError);
}

TEST(FastTextModel, ClassifiersFastTextWouldReadDifferentlyAreNotWritten) {
  std::vector<LabelledExample> data = {{{"a"}, {"good", "film"}, 1}, {{"b"}, {"bad", "film"}, 2}};
  ClassifierOptions o;
  o.dim = 4;
  o.epochs = 1;
  o.word_ngrams = 2;
  o.buckets = 10;
  const io::FastTextModelFile f = FastTextModel::from_classifier(TextClassifier::train(data, o));
  EXPECT_EQ(f.args.model, io::FastTextModelType::Supervised);
  EXPECT_EQ(f.args.bucket, 10);
  EXPECT_EQ(f.dictionary.labels.at(0).text, "__label__a");
  EXPECT_EQ(f.input.size(0), static_cast<std::int64_t>(f.dictionary.words.size()) + 10);
  for (const auto& [change, needle] :
       std::vector<std::pair<void (*)(ClassifierOptions&), std::string>>{
           {[](ClassifierOptions& c) { c.loss = ClassifierLoss::HierarchicalSoftmax; }, "hs"},
           {[](ClassifierOptions& c) { c.lowercase = true; }, "lowercases"},
           {[](ClassifierOptions& c) { c.end_of_line = false; }, "</s>"}}) {
    ClassifierOptions bad = o;
    change(bad);
    try {
      (void)FastTextModel::from_classifier(TextClassifier::train(data, bad));
      ADD_FAILURE() << needle;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace embedkit::models
