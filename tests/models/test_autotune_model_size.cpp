// fastText's -autotune-modelsize (models/autotune_model_size.hpp, fasttext_model_size.hpp): the
// .ftz size computed for every cutoff is the size of the file quantize writes, fastText's size
// spellings, a search under a budget whose every scored candidate and final model fit it, the
// same search from the same seed and trial bound, and budgets no model can meet refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/models/autotune.hpp"
#include "embedkit/models/autotune_model_size.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_model_size.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "models/classify_test_support.hpp"

namespace embedkit::models {
namespace {

using embedkit_classify_test::keyword_lines;

ClassifierOptions start_options() {
  ClassifierOptions o;
  o.dim = 8;
  o.lr = 0.3;
  o.epochs = 5;
  o.word_ngrams = 2;
  o.buckets = 2000;
  o.threads = 1;
  o.seed = 3;
  return o;
}

std::int64_t file_bytes(const io::FastTextModelFile& f) {
  return static_cast<std::int64_t>(io::serialize_fasttext_model(f).size());
}

TEST(FastTextSizeModel, IsTheSizeOfTheFileQuantizeWrites) {
  const auto train = keyword_lines(300, 3, 1);
  const io::FastTextModelFile dense =
      FastTextModel::from_classifier(TextClassifier::train(train, start_options()));
  const std::int64_t rows = dense.input_rows();
  for (const std::int64_t dsub : {1, 3, 8}) {
    for (const bool qnorm : {false, true}) {
      for (const bool qout : {false, true}) {
        SCOPED_TRACE("dsub " + std::to_string(dsub) + (qnorm ? " qnorm" : "") +
                     (qout ? " qout" : ""));
        const FastTextSizeModel size(dense, dsub, qnorm, qout);
        ASSERT_EQ(size.rows(), rows);
        FastTextQuantizeOptions o;
        o.dsub = dsub;
        o.qnorm = qnorm;
        o.qout = qout;
        o.iterations = 0;  // the size does not depend on the centroids
        EXPECT_EQ(size.bytes(0), file_bytes(quantize_fasttext_model(dense, o)));
        for (const std::int64_t cutoff : {std::int64_t{1}, std::int64_t{2}, std::int64_t{40},
                                          std::int64_t{300}, rows - 1, rows}) {
          o.cutoff = cutoff;
          EXPECT_EQ(size.bytes(cutoff), file_bytes(quantize_fasttext_model(dense, o))) << cutoff;
        }
        // The largest cutoff that fits, and only it.
        for (const std::int64_t budget : {size.bytes(1), size.bytes(100) + 3, size.bytes(rows)}) {
          const std::int64_t k = size.largest_cutoff(budget);
          EXPECT_LE(size.bytes(k), budget);
          if (k < rows) {
            EXPECT_GT(size.bytes(k + 1), budget);
          }
        }
        EXPECT_EQ(size.largest_cutoff(size.bytes(1) - 1), 0);
      }
    }
  }
}

TEST(ModelSize, ReadsFastTextsSpellings) {
  EXPECT_EQ(parse_model_size("2M"), 2000000);
  EXPECT_EQ(parse_model_size("2m"), 2000000);
  EXPECT_EQ(parse_model_size("500K"), 500000);
  EXPECT_EQ(parse_model_size("500k"), 500000);
  EXPECT_EQ(parse_model_size("1G"), 1000000000);
  EXPECT_EQ(parse_model_size("12345"), 12345);
  for (const std::string bad : {"", "M", "2X", "-5", "0", "2.5M", "2MB", " 2M", "0K"}) {
    EXPECT_THROW(parse_model_size(bad), ValueError) << "'" << bad << "'";
  }
}

AutotuneOptions under(std::int64_t budget, std::int64_t trials) {
  AutotuneOptions o;
  o.duration_seconds = 600;  // never reached: the trial bound decides
  o.max_trials = trials;
  o.search.buckets = false;
  o.model_size = budget;
  return o;
}

TEST(AutotuneModelSize, EveryScoredCandidateAndTheFinalModelFit) {
  const auto train = keyword_lines(400, 4, 1);
  const auto validation = keyword_lines(150, 4, 2);
  const ClassifierOptions start = start_options();
  // A budget the starting model only meets by dropping rows: the cutoff and retraining run.
  const io::FastTextModelFile dense =
      FastTextModel::from_classifier(TextClassifier::train(train, start));
  const std::int64_t budget = FastTextSizeModel(dense, 2, true, false).bytes(400);
  const AutotuneOptions o = under(budget, 8);
  const AutotuneResult r = autotune_classifier(train, validation, start, o);
  ASSERT_EQ(r.trials.size(), 8u);
  ASSERT_TRUE(r.best_quantization.has_value());
  std::int64_t pruned = 0;
  for (const AutotuneTrial& t : r.trials) {
    ASSERT_TRUE(t.quantization.has_value()) << t.number;
    const std::int64_t dsub = t.quantization->dsub;
    EXPECT_TRUE(dsub == 2 || dsub == 4 || dsub == 8 || dsub == t.options.dim) << dsub;
    if (t.outcome == "scored") {
      EXPECT_LE(t.quantization->bytes, budget) << t.number;
      EXPECT_EQ(t.quantization->retrained, t.quantization->cutoff > 0);
      pruned += t.quantization->cutoff > 0;
    } else {
      EXPECT_EQ(t.outcome, "over the model size") << t.number;
    }
  }
  EXPECT_GT(pruned, 0);
  std::printf("budget %lld bytes: best %.4f (trial %lld, dsub %lld, cutoff %lld, %lld bytes)\n",
              static_cast<long long>(budget), r.best_score, static_cast<long long>(r.best_trial),
              static_cast<long long>(r.best_quantization->dsub),
              static_cast<long long>(r.best_quantization->cutoff),
              static_cast<long long>(r.best_quantization->bytes));
  // The final model: the best options trained again (one thread: the same model) and fitted
  // with the best dsub is the best trial's file, and scores what the search reported.
  const TextClassifier final_model = TextClassifier::train(train, r.best);
  const auto fit = fit_model_size(final_model, train, r.best_quantization->dsub, budget);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->quantization.bytes, r.best_quantization->bytes);
  EXPECT_LE(fit->quantization.bytes, budget);
  const FastTextModel quantized(fit->file);
  EXPECT_DOUBLE_EQ(quantized.evaluate(validation, 1).precision(), r.best_score);
  // The same seed and trial bound: the same search.
  const AutotuneResult again = autotune_classifier(train, validation, start, o);
  ASSERT_EQ(again.trials.size(), r.trials.size());
  for (std::size_t i = 0; i < r.trials.size(); ++i) {
    EXPECT_EQ(again.trials[i].score, r.trials[i].score) << i;
    EXPECT_EQ(again.trials[i].quantization->bytes, r.trials[i].quantization->bytes) << i;
  }
}

TEST(AutotuneModelSize, RefusesBudgetsNoModelMeets) {
  const auto train = keyword_lines(200, 3, 4);
  const auto validation = keyword_lines(60, 3, 5);
  ClassifierOptions start = start_options();
  const std::vector<std::string> labels{"c0", "c1", "c2"};
  // Below the smallest model at dim 1 (dim searched): refused before training.
  const std::int64_t least = smallest_model_bytes(labels, "__label__", 1);
  try {
    autotune_classifier(train, validation, start, under(least - 1, 2));
    FAIL() << "a budget below the smallest model was accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("below the smallest model"), std::string::npos)
        << e.what();
  }
  // dim fixed at 8: the smallest model is larger.
  AutotuneOptions o = under(smallest_model_bytes(labels, "__label__", 8) - 1, 2);
  o.search.dim = false;
  EXPECT_THROW(autotune_classifier(train, validation, start, o), ValueError);
  // Room for the fixed parts but not for 256 rows: every trial is over, and the search fails.
  o.model_size = smallest_model_bytes(labels, "__label__", 8) + 100;
  try {
    autotune_classifier(train, validation, start, o);
    FAIL() << "a search where nothing fits returned";
  } catch (const ValueError&) {
    FAIL() << "refused before the search";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no candidate fit the model size"), std::string::npos)
        << e.what();
  }
  // A loss fastText reads differently.
  start.loss = ClassifierLoss::HierarchicalSoftmax;
  for (const bool searched : {false, true}) {
    o = under(2000000, 2);
    o.search.loss = searched;  // searched or not, the first trial trains the start's loss
    EXPECT_THROW(autotune_classifier(train, validation, start, o), ValueError);
  }
}

}  // namespace
}  // namespace embedkit::models
