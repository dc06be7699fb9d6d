// The output side of a shallow model (fastText's Loss, word2vec.c's syn1neg/syn1 updates): given
// the hidden vector a model computed from its input rows and the id it must predict (the centre
// word, the line's label), score the output rows that prediction needs, move them, and hand back
// the gradient for the input rows. The model owns the input side (which rows, how they are
// averaged, how the gradient moves them: input_bag.hpp) and the schedule (the learning rate, the
// generator).
//
// The implementations:
//   logistic_output_loss.hpp  negative sampling and hierarchical softmax as word2vec.c and
//                             fastText compute them: tabulated sigmoid, one row at a time
//   layered_output_loss.hpp   softmax, negative sampling and hierarchical softmax built from
//                             embedkit's nn layers (Linear, cross entropy, BCE with logits,
//                             optim::SGD): the text classifier's
//   binary_targets.hpp        which (row, label) pairs negative sampling and hierarchical softmax
//                             train, shared by both
#pragma once

#include <cstdint>

#include "core/splitmix64.hpp"

namespace embedkit::models::training {

class OutputLoss {
 public:
  virtual ~OutputLoss() = default;

  // One prediction of `target` from `hidden` [dim]: moves the output rows it scores (by the
  // learning rate `lr`), writes lr times the loss's gradient with respect to `hidden` to `grad`
  // [dim] (the input rows move against it), and returns the loss before the update. Negative
  // sampling draws its negatives from `rng`.
  virtual double update(const float* hidden, std::int64_t target, float lr, float* grad,
                        embedkit::detail::SplitMix64& rng) = 0;
};

}  // namespace embedkit::models::training
