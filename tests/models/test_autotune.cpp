// Autotune of the text classifier (models/autotune.hpp): the search beats a deliberately bad
// start, is deterministic under a trial bound, leaves alone what the user fixed, scores as the
// classifier's own evaluation does, and refuses bad input before training anything.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/models/autotune.hpp"
#include "embedkit/models/dictionary.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "models/classify_test_support.hpp"

namespace embedkit::models {
namespace {

using embedkit_classify_test::keyword_lines;

// Options that learn little from keyword_lines: one epoch at the smallest rate autotune uses,
// two dimensions.
ClassifierOptions bad_start() {
  ClassifierOptions o;
  o.dim = 2;
  o.lr = 0.01;
  o.epochs = 1;
  o.buckets = 10000;  // fixed (not searched), so that no candidate allocates millions of rows
  o.threads = 1;
  o.seed = 1;
  return o;
}

AutotuneOptions bounded(std::int64_t trials) {
  AutotuneOptions o;
  o.duration_seconds = 600;  // never reached: the trial bound decides
  o.max_trials = trials;
  o.search.buckets = false;
  return o;
}

struct Data {
  std::vector<LabelledExample> train = keyword_lines(400, 4, 1);
  std::vector<LabelledExample> validation = keyword_lines(150, 4, 2);
  std::vector<LabelledExample> test = keyword_lines(150, 4, 3);
};

TEST(Autotune, FindsBetterOptionsThanABadStart) {
  const Data d;
  const AutotuneResult r = autotune_classifier(d.train, d.validation, bad_start(), bounded(20));
  ASSERT_EQ(r.trials.size(), 20u);
  // Trial 1 is the start itself.
  EXPECT_EQ(r.trials[0].options.lr, 0.01);
  EXPECT_EQ(r.trials[0].options.epochs, 1);
  EXPECT_EQ(r.trials[0].options.dim, 2);
  ASSERT_TRUE(r.trials[0].score.has_value());
  const double start_score = *r.trials[0].score;
  EXPECT_LT(start_score, 0.6);
  EXPECT_GT(r.best_score, start_score + 0.3);
  EXPECT_GT(r.best_trial, 1);
  EXPECT_FALSE(r.deadline_reached);

  // The final model, trained again with the best options, does as well on unseen lines.
  const TextClassifier tuned = TextClassifier::train(d.train, r.best);
  const TextClassifier untuned = TextClassifier::train(d.train, bad_start());
  EXPECT_GT(tuned.evaluate(d.test, 1).precision(), untuned.evaluate(d.test, 1).precision() + 0.3);
}

TEST(Autotune, TheBestScoreIsTheRetrainedModelsOwnEvaluation) {
  const Data d;
  // f1 over all labels with one prediction per line and one label per line is precision@1.
  const AutotuneResult r = autotune_classifier(d.train, d.validation, bad_start(), bounded(5));
  const TextClassifier model = TextClassifier::train(d.train, r.best);
  EXPECT_DOUBLE_EQ(r.best_score, model.evaluate(d.validation, 1).precision());

  // f1 of one label is that label's F1.
  AutotuneOptions one = bounded(5);
  one.metric = AutotuneMetric::parse("f1:__label__c2", "__label__");
  const AutotuneResult rl = autotune_classifier(d.train, d.validation, bad_start(), one);
  const TextClassifier ml = TextClassifier::train(d.train, rl.best);
  const auto c2 = *ml.dictionary().labels().find("c2");
  EXPECT_DOUBLE_EQ(rl.best_score, ml.evaluate(d.validation, 1).per_label[c2].f1());

  // Recall at precision >= 0 is the plain recall of the top-k predictions.
  AutotuneOptions curve = bounded(4);
  curve.predictions = 2;
  curve.metric = AutotuneMetric::parse("recallAtPrecision:0", "__label__");
  const AutotuneResult rc = autotune_classifier(d.train, d.validation, bad_start(), curve);
  const TextClassifier mc = TextClassifier::train(d.train, rc.best);
  EXPECT_DOUBLE_EQ(rc.best_score, mc.evaluate(d.validation, 2).recall());
}

TEST(Autotune, SameSeedAndTrialBoundSameSearch) {
  const Data d;
  const AutotuneResult a = autotune_classifier(d.train, d.validation, bad_start(), bounded(6));
  const AutotuneResult b = autotune_classifier(d.train, d.validation, bad_start(), bounded(6));
  ASSERT_EQ(a.trials.size(), b.trials.size());
  for (std::size_t i = 0; i < a.trials.size(); ++i) {
    const ClassifierOptions& x = a.trials[i].options;
    const ClassifierOptions& y = b.trials[i].options;
    EXPECT_EQ(x.lr, y.lr) << "trial " << i + 1;
    EXPECT_EQ(x.epochs, y.epochs);
    EXPECT_EQ(x.dim, y.dim);
    EXPECT_EQ(x.word_ngrams, y.word_ngrams);
    EXPECT_EQ(x.minn, y.minn);
    EXPECT_EQ(x.maxn, y.maxn);
    EXPECT_EQ(a.trials[i].score, b.trials[i].score);
  }
  EXPECT_EQ(a.best_trial, b.best_trial);
  EXPECT_EQ(a.best_score, b.best_score);

  // Another seed draws other candidates.
  ClassifierOptions other = bad_start();
  other.seed = 4;
  const AutotuneResult c = autotune_classifier(d.train, d.validation, other, bounded(6));
  bool differs = false;
  for (std::size_t i = 1; i < c.trials.size(); ++i) {
    differs = differs || c.trials[i].options.lr != a.trials[i].options.lr;
  }
  EXPECT_TRUE(differs);
}

TEST(Autotune, LeavesWhatTheUserFixedAlone) {
  const Data d;
  AutotuneOptions o = bounded(8);
  o.search.lr = false;
  o.search.dim = false;
  o.search.loss = false;
  ClassifierOptions start = bad_start();
  start.lr = 0.5;
  start.dim = 12;
  start.loss = ClassifierLoss::HierarchicalSoftmax;
  const AutotuneResult r = autotune_classifier(d.train, d.validation, start, o);
  bool epochs_moved = false;
  for (const AutotuneTrial& t : r.trials) {
    EXPECT_EQ(t.options.lr, 0.5);
    EXPECT_EQ(t.options.dim, 12);
    EXPECT_EQ(t.options.loss, ClassifierLoss::HierarchicalSoftmax);
    EXPECT_EQ(t.options.buckets, 10000);
    EXPECT_EQ(t.options.threads, 1);
    EXPECT_GE(t.options.epochs, 1);
    EXPECT_LE(t.options.epochs, 100);
    EXPECT_GE(t.options.word_ngrams, 1);
    EXPECT_LE(t.options.word_ngrams, 5);
    EXPECT_TRUE(t.options.maxn == 0 || t.options.maxn == t.options.minn + 3);
    epochs_moved = epochs_moved || t.options.epochs != start.epochs;
  }
  EXPECT_TRUE(epochs_moved);
}

TEST(Autotune, CandidatesOverTheMemoryBoundArePassedOver) {
  const Data d;
  AutotuneOptions o = bounded(8);
  o.max_table_bytes = 1000;  // the start's tables (dim 2, no buckets) fit, few others do
  const AutotuneResult r = autotune_classifier(d.train, d.validation, bad_start(), o);
  ASSERT_EQ(r.trials.size(), 8u);
  EXPECT_EQ(r.trials[0].outcome, "scored");
  const Dictionary dictionary = Dictionary::from_examples(d.train, 1, true);
  const std::int64_t rows = dictionary.words().size() + dictionary.labels().size();
  std::int64_t skipped = 0;
  for (const AutotuneTrial& t : r.trials) {
    const std::int64_t bytes = (rows + t.options.bucket_rows()) * t.options.dim * 4;
    EXPECT_EQ(t.outcome, bytes > 1000 ? "tables too large" : "scored") << "trial " << t.number;
    EXPECT_EQ(t.score.has_value(), bytes <= 1000);
    skipped += bytes > 1000;
  }
  EXPECT_GT(skipped, 0);
}

TEST(Autotune, RefusesBadInputBeforeTraining) {
  const Data d;
  const ClassifierOptions start = bad_start();
  EXPECT_THROW(autotune_classifier(d.train, {}, start, bounded(2)), ValueError);
  EXPECT_THROW(autotune_classifier({}, d.validation, start, bounded(2)), ValueError);

  // A validation label no training line carries: named, with its line.
  std::vector<LabelledExample> unknown = d.validation;
  unknown[7].labels = {"never"};
  try {
    autotune_classifier(d.train, unknown, start, bounded(2));
    FAIL() << "an unknown validation label was accepted";
  } catch (const ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'never'"), std::string::npos) << what;
    EXPECT_NE(what.find("line 8"), std::string::npos) << what;
  }

  AutotuneOptions o = bounded(2);
  for (const double bad : {0.0, -1.0}) {
    o.duration_seconds = bad;
    EXPECT_THROW(autotune_classifier(d.train, d.validation, start, o), ValueError) << bad;
  }
  o = bounded(2);
  o.metric = AutotuneMetric::parse("f1:nolabel", "__label__");
  EXPECT_THROW(autotune_classifier(d.train, d.validation, start, o), ValueError);
  o = bounded(2);
  o.predictions = 0;
  EXPECT_THROW(autotune_classifier(d.train, d.validation, start, o), ValueError);
}

TEST(Autotune, NoTrialWithinTheDurationIsAnError) {
  const Data d;
  AutotuneOptions o;
  o.duration_seconds = 1e-9;
  try {
    autotune_classifier(d.train, d.validation, bad_start(), o);
    FAIL() << "a search without a scored trial returned";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no candidate was scored"), std::string::npos);
  }
}

TEST(AutotuneMetric, ReadsFastTextsSpellings) {
  AutotuneMetric m = AutotuneMetric::parse("f1", "__label__");
  EXPECT_EQ(m.kind, AutotuneMetric::Kind::F1);
  EXPECT_TRUE(m.label.empty());
  m = AutotuneMetric::parse("f1:__label__pos", "__label__");
  EXPECT_EQ(m.label, "pos");
  EXPECT_EQ(m.name(), "f1:pos");
  EXPECT_EQ(AutotuneMetric::parse("f1:pos", "__label__").label, "pos");
  m = AutotuneMetric::parse("precisionAtRecall:30", "__label__");
  EXPECT_EQ(m.kind, AutotuneMetric::Kind::PrecisionAtRecall);
  EXPECT_DOUBLE_EQ(m.value, 0.3);
  EXPECT_EQ(m.name(), "precisionAtRecall:30");
  m = AutotuneMetric::parse("recallAtPrecision:87.5:__label__neg", "__label__");
  EXPECT_EQ(m.kind, AutotuneMetric::Kind::RecallAtPrecision);
  EXPECT_DOUBLE_EQ(m.value, 0.875);
  EXPECT_EQ(m.label, "neg");
  for (const char* bad :
       {"", "f2", "f1:", "f1:__label__", "precisionAtRecall:", "precisionAtRecall:abc",
        "precisionAtRecall:150", "recallAtPrecision:-1", "precisionAtRecall:30:"}) {
    EXPECT_THROW(AutotuneMetric::parse(bad, "__label__"), ValueError) << bad;
  }
}

}  // namespace
}  // namespace embedkit::models
