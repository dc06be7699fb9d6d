// Seeded training-like gradients for the optimizer tests: an embedding table (with a padding
// row) whose gradients come from embedding_backward on random ids with repeats and padding, and
// a small second parameter with plain dense gradients.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/core/row_sparse.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/weight_grad.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace optim_test {

struct ScenarioConfig {
  std::int64_t rows = 37;
  std::int64_t dim = 13;  // not a multiple of the vector width: ATen's scalar tails run too
  std::int64_t padding_idx = 3;
  std::int64_t batch = 24;
  // The last rows are never looked up: lazy optimizers must leave them alone.
  std::int64_t untouched_rows = 4;
  bool sparse = false;         // the table's gradients are row-sparse
  bool second_sparse = false;  // the second parameter's too (SparseAdam takes no dense ones)
  std::uint64_t seed = 1;
};

class Scenario {
 public:
  static constexpr std::int64_t kSecondRows = 4;
  static constexpr std::int64_t kSecondDim = 7;
  // Steps with no gradient for the second parameter (PyTorch's .grad is None) and with an
  // all-padding batch (an empty row-sparse gradient, a zero dense one) for the table.
  static bool second_skipped(int step) { return step % 5 == 4; }
  static bool all_padding(int step) { return step == 10; }

  explicit Scenario(const ScenarioConfig& config);

  const ScenarioConfig& config() const { return config_; }
  // Fresh copies of the initial values: table ~ N(0, 1) with a zero padding row (so PyTorch,
  // which does not protect it, keeps it fixed too), second ~ N(0, 1).
  std::vector<embedkit::optim::Parameter> params() const;
  // The gradients of step `step` (0-based); the same step gives the same gradients.
  std::vector<embedkit::nn::WeightGrad> grads(int step) const;

 private:
  ScenarioConfig config_;
  embedkit::Tensor table_;
  embedkit::Tensor second_;
};

}  // namespace optim_test
