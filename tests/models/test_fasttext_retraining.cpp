// quantize's retraining (models/fasttext_retraining.hpp): it moves the rows a cutoff keeps and
// leaves the pruning as it was, lowers the training loss of the pruned model, gives the same
// bytes on every run at one thread, and refuses what it cannot do before training.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/fasttext_retraining.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models {
namespace {

// Three labels, each with its own keywords, among shared noise words; 1 line in 5 carries a
// second keyword of another label so that the words alone do not separate the labels exactly.
std::vector<LabelledExample> corpus(int lines, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> labels{"a", "b", "c"};
  std::vector<LabelledExample> out;
  for (int i = 0; i < lines; ++i) {
    LabelledExample e;
    const std::size_t l = rng() % 3;
    e.labels = {labels[l]};
    for (int w = 0; w < 6; ++w) e.words.push_back("noise" + std::to_string(rng() % 40));
    e.words[rng() % 6] = labels[l] + "key" + std::to_string(rng() % 12);
    if (rng() % 5 == 0)
      e.words[rng() % 6] = labels[(l + 1) % 3] + "key" + std::to_string(rng() % 12);
    e.line = i + 1;
    out.push_back(std::move(e));
  }
  return out;
}

io::FastTextModelFile trained_model(const std::vector<LabelledExample>& data,
                                    ClassifierLoss loss = ClassifierLoss::Softmax) {
  ClassifierOptions o;
  o.dim = 8;
  o.epochs = 5;
  o.lr = 0.5;
  o.word_ngrams = 2;
  o.buckets = 300;
  o.loss = loss;
  o.threads = 1;
  return FastTextModel::from_classifier(TextClassifier::train(data, o));
}

// Mean negative log-likelihood of the gold label (fastText's probability, p + 1e-5) over the
// lines that have rows left.
double mean_loss(const io::FastTextModelFile& file, const std::vector<LabelledExample>& data) {
  const FastTextModel m(file);
  const auto k = static_cast<std::int64_t>(file.dictionary.labels.size());
  double sum = 0;
  std::int64_t n = 0;
  for (const LabelledExample& e : data) {
    for (const FastTextPrediction& p : m.predict(e.words, k)) {
      if (p.text == "__label__" + e.labels[0]) {
        sum -= std::log(p.probability);
        ++n;
      }
    }
  }
  return sum / static_cast<double>(std::max<std::int64_t>(n, 1));
}

FastTextRetraining retraining(const std::vector<LabelledExample>& data) {
  FastTextRetraining r;
  r.lines = &data;
  r.epochs = 5;
  r.lr = 0.2;
  r.threads = 1;
  return r;
}

// dsub 1 and fewer than 256 rows: the codes are exact, so the quantized model is the pruned one.
FastTextQuantizeOptions exact(std::int64_t cutoff) {
  FastTextQuantizeOptions o;
  o.dsub = 1;
  o.cutoff = cutoff;
  return o;
}

TEST(FastTextRetrain, MovesTheKeptRowsAndKeepsThePruning) {
  const auto data = corpus(600, 1);
  const io::FastTextModelFile model = trained_model(data);
  const FastTextPruning p = select_fasttext_rows(model, 40);
  const std::int64_t dim = model.args.dim;
  Tensor input = Tensor::empty({40, dim});
  for (std::int64_t i = 0; i < 40; ++i) {
    std::copy_n(model.input.data<float>() + p.rows[static_cast<std::size_t>(i)] * dim, dim,
                input.data<float>() + i * dim);
  }
  const std::vector<float> before = input.to_float_vector();
  Tensor output = model.output.clone();
  ClassifierTrainStats stats;
  FastTextRetraining r = retraining(data);
  r.stats = &stats;
  retrain_pruned_rows(model, p, input, output, r);
  EXPECT_NE(input.to_float_vector(), before);
  EXPECT_NE(output.to_float_vector(), model.output.to_float_vector());
  EXPECT_EQ(stats.examples, 600);
  EXPECT_GT(stats.final_loss, 0);
  // The same rows are kept: the quantized files differ in their values only.
  const io::FastTextModelFile plain = quantize_fasttext_model(model, exact(40));
  const io::FastTextModelFile again = quantize_fasttext_model(model, exact(40), &r);
  EXPECT_EQ(again.dictionary.prune_index, plain.dictionary.prune_index);
  ASSERT_EQ(again.dictionary.words.size(), plain.dictionary.words.size());
  for (std::size_t i = 0; i < plain.dictionary.words.size(); ++i) {
    EXPECT_EQ(again.dictionary.words[i].text, plain.dictionary.words[i].text);
  }
  // Retraining inside quantize is what retrain_pruned_rows gives (the codes are exact).
  EXPECT_EQ(again.input_codes.decode().to_float_vector(), input.to_float_vector());
  EXPECT_EQ(again.output.to_float_vector(), output.to_float_vector());
}

TEST(FastTextRetrain, LowersTheTrainingLossOfThePrunedModel) {
  const auto data = corpus(600, 2);
  for (const ClassifierLoss loss : {ClassifierLoss::Softmax, ClassifierLoss::NegativeSampling}) {
    const io::FastTextModelFile model = trained_model(data, loss);
    const FastTextRetraining r = retraining(data);
    const double full = mean_loss(model, data);
    const double pruned = mean_loss(quantize_fasttext_model(model, exact(30)), data);
    const double retrained = mean_loss(quantize_fasttext_model(model, exact(30), &r), data);
    std::printf("%s: loss full %.4f, cutoff 30 %.4f, retrained %.4f\n",
                classifier_loss_name(loss).c_str(), full, pruned, retrained);
    EXPECT_GT(pruned, full);  // the cutoff hurts, or the test shows nothing
    EXPECT_LT(retrained, pruned);
  }
}

TEST(FastTextRetrain, SameBytesOnEveryRunAtOneThread) {
  const auto data = corpus(400, 3);
  const io::FastTextModelFile model = trained_model(data);
  FastTextQuantizeOptions o;
  o.cutoff = 50;
  o.qnorm = true;
  o.dsub = 2;
  const FastTextRetraining r = retraining(data);
  const std::string a = io::serialize_fasttext_model(quantize_fasttext_model(model, o, &r));
  const std::string b = io::serialize_fasttext_model(quantize_fasttext_model(model, o, &r));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, io::serialize_fasttext_model(quantize_fasttext_model(model, o)));
}

TEST(FastTextRetrain, RefusesWhatItCannotTrain) {
  const auto data = corpus(200, 4);
  const io::FastTextModelFile model = trained_model(data);
  auto message = [&](const io::FastTextModelFile& m, FastTextQuantizeOptions o,
                     const FastTextRetraining& r) {
    try {
      (void)quantize_fasttext_model(m, o, &r);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  FastTextRetraining r = retraining(data);
  EXPECT_NE(message(model, exact(0), r).find("retraining needs a cutoff"), std::string::npos);
  r.epochs = 0;
  EXPECT_NE(message(model, exact(10), r).find("epochs must be >= 1"), std::string::npos);
  r = retraining(data);
  r.lr = 0;
  EXPECT_NE(message(model, exact(10), r).find("lr must be > 0"), std::string::npos);
  const std::vector<LabelledExample> none;
  r = retraining(none);
  EXPECT_NE(message(model, exact(10), r).find("no training line"), std::string::npos);
  // Lines whose labels the model does not have.
  std::vector<LabelledExample> other = data;
  for (LabelledExample& e : other) e.labels = {"z"};
  r = retraining(other);
  EXPECT_NE(message(model, exact(10), r).find("none of the 200 training lines"), std::string::npos);
  // hs: fastText's tree is not embedkit's.
  io::FastTextModelFile hs = model;
  hs.args.loss = io::FastTextLoss::HierarchicalSoftmax;
  r = retraining(data);
  EXPECT_NE(message(hs, exact(10), r).find("supports softmax and ns"), std::string::npos);
}

}  // namespace
}  // namespace embedkit::models
