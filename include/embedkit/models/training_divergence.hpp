// Training that ran off to infinity or NaN, usually because the learning rate is too large for
// the data. The trainers (word2vec, the text classifier, matrix factorization) check their loss
// at their progress points, and their tables once at the end, and stop with this error: a
// diverged model is never returned, so it is never saved over a good one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::models {

class TrainingDivergedError : public Error {
 public:
  // "training diverged at epoch 2, word 10000: loss is NaN; lower --alpha". `unit` names what
  // `position` counts ("word", "line", "rating"), `problem` says what is not finite and
  // `rate_option` is the learning-rate option as the command line spells it.
  TrainingDivergedError(std::int64_t epoch, std::string_view unit, std::int64_t position,
                        const std::string& problem, std::string_view rate_option);

  std::int64_t epoch() const { return epoch_; }  // 1-based
  std::int64_t position() const { return position_; }

 private:
  std::int64_t epoch_;
  std::int64_t position_;
};

// "loss is NaN", "loss is inf" or "loss is -inf": the `problem` of a non-finite loss.
std::string non_finite_loss(double loss);

// The index of the first non-finite value of a float32 tensor, or -1 when all are finite.
std::int64_t first_non_finite(const Tensor& table);
std::int64_t first_non_finite(const float* values, std::size_t count);

// "tensor 'NAME' holds a non-finite value (NaN at element 12)" for a float32 tensor holding NaN
// or an infinity; "" when every value is finite.
std::string non_finite_tensor(const Tensor& table, std::string_view name);

}  // namespace embedkit::models
