// The input side of a shallow model: the hidden vector is the mean of some rows of the input
// table (skip-gram: the context word's row; CBOW: the context words' rows; the classifier: the
// line's words and word n-grams; with subwords, a word's row and its character n-grams' rows),
// and after the output loss (output_loss.hpp) those rows move against the gradient it hands back
// (which already holds the learning rate).
//
// The implementations:
//   MeanInputBag     (mean_input_bag.hpp) word2vec.c's and fastText's unsupervised rule: every
//                    row moves by -grad
//   LayeredInputBag  (layered_input_bag.hpp) built from nn::EmbeddingBag(mean) and optim::SGD,
//                    the text classifier's: the gradient is shared among the rows (each moves
//                    by -grad / rows, the gradient of the mean; fastText's supervised rule)
#pragma once

#include <cstdint>
#include <span>

namespace embedkit::models::training {

class InputBag {
 public:
  virtual ~InputBag() = default;

  // The mean of the input rows `rows` (at least one): [dim] floats, valid until the next call.
  virtual const float* mean(std::span<const std::int64_t> rows) = 0;
  // Moves the rows of the last mean() against `grad` [dim] (lr times the loss's gradient with
  // respect to the mean), as the implementation's rule says.
  virtual void update(const float* grad) = 0;
};

}  // namespace embedkit::models::training
