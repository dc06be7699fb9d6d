// Autotune of the text classifier's hyperparameters on a validation set, as fastText's autotune
// does (`fasttext supervised -autotune-validation FILE`; fastText's autotune.cc):
//
//   trial 1 trains the starting options as given; every later trial mutates the best options so
//   far: epochs, lr, dim and the bucket count are multiplied by 2^N(0, sigma), word n-grams and
//   the index of minn in {0, 2, 3} move by N(0, sigma) (each truncated toward zero and clamped:
//   epochs [1, 100], lr [0.01, 5], dim [1, 1000], word n-grams [1, 5], buckets [1e4, 1e7]);
//   maxn is minn + 3 (0 without subwords), the loss softmax. Sigma shrinks linearly from its
//   start to its end value while the search goes from 25% to 75% of its budget, so the search
//   explores first and refines last. Each candidate is trained on the whole training set with
//   the library's training (TextClassifier::train, threads as the options say), scored on the
//   validation set, and kept when it beats the best; a candidate that diverges, or whose tables
//   exceed the memory bound, counts as a trial and is passed over.
//
// The budget is wall-clock seconds (a trial still training at the deadline is stopped and
// dropped, as fastText drops it) and, optionally, a number of trials. With a trial bound the
// schedule follows the trial count, not the clock: the same data, options, seed and bound then
// give the same candidates and, with one thread and a deadline that is not reached, the same
// result on every run. Without it the schedule follows the clock, as fastText's does.
//
// What is left to the caller (the command line, Python): training the final model with the best
// options on the training set (fastText retrains on the same file) and saving it. A parameter
// the user set is not searched (fastText's rule for arguments given on its command line).
//
// With a model-size target (fastText's -autotune-modelsize, autotune_model_size.hpp) every
// candidate is also quantized to fit it (qnorm, the largest cutoff that fits, the kept rows
// retrained) and scored from its codes; the quantizer's dsub is searched too (2^k, k in 1..4
// moved by N(0, sigma), fastText's distribution; the first trial takes dsub 2), and a candidate
// that cannot fit counts as a trial and is passed over. The caller then trains the final model
// and fits it with the best trial's dsub (fit_model_size).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/models/autotune_model_size.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models {

// What the search maximises on the validation set, scored over each line's top `predictions`
// labels as fastText's Meter scores them.
struct AutotuneMetric {
  enum class Kind {
    F1,                 // 2 * correct / (predicted + gold), over all labels or one
    PrecisionAtRecall,  // the best precision at a recall of at least `value`
    RecallAtPrecision,  // the best recall at a precision of at least `value`
  };
  Kind kind = Kind::F1;
  double value = 0;   // in [0, 1]: the recall or precision the curve metrics are read at
  std::string label;  // "" for all labels; else one label's name, its prefix removed

  // fastText's spellings: "f1", "f1:LABEL", "precisionAtRecall:30", "precisionAtRecall:30:LABEL",
  // "recallAtPrecision:30", "recallAtPrecision:30:LABEL" (30 meaning 30%). LABEL may carry
  // `label_prefix` ("f1:__label__pos", as fastText writes it) or not ("f1:pos"). ValueError
  // naming the text otherwise.
  static AutotuneMetric parse(const std::string& text, const std::string& label_prefix);
  // The text parse() reads back ("f1", "f1:pos", "precisionAtRecall:30").
  std::string name() const;
};

// The options the search may change: true for each one to search. A caller sets false for
// those the user gave.
struct AutotuneSearch {
  bool epochs = true;
  bool lr = true;
  bool dim = true;
  bool word_ngrams = true;
  bool buckets = true;
  bool minn = true;
  bool maxn = true;
  bool loss = true;
  bool dsub = true;  // with a model-size target only
};

struct AutotuneOptions {
  double duration_seconds = 300;  // > 0: the wall-clock budget of the search (fastText's default)
  // > 0: at most this many trials, the schedule following the trial count (see above); 0: as
  // many as the duration allows, the schedule following the clock.
  std::int64_t max_trials = 0;
  std::int64_t predictions = 1;  // labels predicted per validation line (fastText's k), >= 1
  AutotuneMetric metric;
  AutotuneSearch search;
  // > 0: a candidate whose input and output tables would take more bytes (twice theirs with a
  // model size: the copy quantized) is not trained (it counts as a trial); 0: no bound. fastText
  // has none and relies on std::bad_alloc, which an overcommitting kernel turns into the OOM
  // killer.
  std::uint64_t max_table_bytes = 0;
  // Seconds between progress reports (autotune's on_progress).
  double progress_interval = 1.0;
  // > 0: fastText's -autotune-modelsize, in bytes (see above); 0: no target.
  std::int64_t model_size = 0;
  std::int64_t dsub = 2;               // the first trial's, and every trial's when not searched
  std::uint64_t quantize_seed = 1234;  // the k-means' seed

  // ValueError naming the first bad option.
  void validate() const;
};

struct AutotuneTrial {
  std::int64_t number = 0;  // 1-based
  ClassifierOptions options;
  std::optional<double> score;  // absent when the candidate was not scored
  // "scored", "diverged", "tables too large", "out of memory", "over the model size"
  std::string outcome;
  double seconds = 0;  // training, quantizing and scoring
  // With a model-size target: the quantization scored (dsub alone when it did not fit).
  std::optional<ModelSizeQuantization> quantization;
};

struct AutotuneResult {
  ClassifierOptions best;  // the starting options with the best candidate's searched values
  double best_score = 0;
  std::int64_t best_trial = 0;  // its number
  // With a model-size target: how the best candidate was quantized (its dsub is the final's).
  std::optional<ModelSizeQuantization> best_quantization;
  std::vector<AutotuneTrial> trials;  // every finished trial, in order
  bool deadline_reached = false;      // a trial in flight at the deadline was stopped and dropped
  double seconds = 0;
};

struct AutotuneProgress {
  double fraction = 0;         // of the budget: the time's, or the trials' when they are bounded
  std::int64_t trials = 0;     // finished so far
  std::optional<double> best;  // the best score so far
  double elapsed_seconds = 0;
  double eta_seconds = 0;
};

// Searches options for training a classifier on `train` (the starting point `start`, whose
// threads, seed and reading options every candidate keeps), scoring each on `validation`.
//
// ValueError, before any training, for bad options, no training or no validation line, a
// validation label that the training lines never carry (it could never be predicted: named
// with its line), a metric label unknown to training, and with a model-size target: a budget
// below the smallest model the labels allow (smallest_model_bytes at the smallest dimension the
// search may take), and options fastText cannot read (the hs loss, lowercase, no "</s>").
// embedkit::Error when no trial finished within the duration, or none fit the model size.
// on_progress, when given, is called on the calling thread about every progress_interval seconds
// and once at the end; an exception it throws stops the search and propagates (Python's Ctrl-C).
AutotuneResult autotune_classifier(
    const std::vector<LabelledExample>& train, const std::vector<LabelledExample>& validation,
    const ClassifierOptions& start, const AutotuneOptions& options,
    const std::function<void(const AutotuneProgress&)>& on_progress = {});

}  // namespace embedkit::models
