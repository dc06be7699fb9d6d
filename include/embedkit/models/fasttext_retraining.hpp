// fastText's `quantize -retrain`: after -cutoff has kept the input rows of largest norm, the
// model is trained again on its training lines with those rows only, so that the kept rows (and
// the output matrix) take over what the dropped rows carried, before the product quantization.
//
// The lines are read as the pruned model reads them (fastText's getLine on the pruned
// dictionary): a word whose row was dropped brings nothing, an n-gram whose bucket was dropped
// is left out, and a line's word n-grams are still hashed from all its words. Training starts
// from the kept rows and the model's output matrix (not from a fresh start) and is the
// classifier's own SGD (classifier_sgd.hpp): softmax or ns as the model's loss, the learning
// rate decaying linearly from `lr` to 0 over `epochs`, `threads` hogwild threads (one thread:
// the same lines, model, options and seed give the same bytes). A line carrying no label of the
// model, or with no kept row, counts its tokens for the learning rate but is not trained on (as
// fastText skips it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::models {

struct FastTextPruning;

struct FastTextRetraining {
  // The training lines (labels without their prefix, as labelled_text.hpp reads them).
  const std::vector<LabelledExample>* lines = nullptr;
  std::int64_t epochs = 5;
  double lr = 0.1;
  std::int64_t threads = 1;
  std::uint64_t seed = 1;
  // Joins a line's labels to the model's ("__label__" + "pos").
  std::string label_prefix = "__label__";
  ClassifierTrainStats* stats = nullptr;  // filled when given (final_loss: the last epoch's)
  // Called as TextClassifier::train calls its callback, every progress_interval seconds; what it
  // throws stops the training and propagates (autotune's deadline).
  std::function<void(const ClassifierProgress&)> on_progress;
  double progress_interval = 1.0;
};

// Trains `input` (pruning.rows of model.input, in that order) and `output` (the model's output
// matrix, a copy) in place. ValueError, before any training, for: a model that is not a dense
// supervised one, a loss other than softmax and ns (fastText's Huffman tree for hs is built in
// another order than embedkit's; ova has no training here), epochs < 1, lr not > 0, threads < 1,
// no line, no line that can be trained on (no label of the model, or no kept row). Throws
// TrainingDivergedError when the tables become NaN or infinite (lr too large).
void retrain_pruned_rows(const io::FastTextModelFile& model, const FastTextPruning& pruning,
                         Tensor& input, Tensor& output, const FastTextRetraining& retraining);

}  // namespace embedkit::models
