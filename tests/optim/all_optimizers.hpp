// Every embedkit optimizer, configured so that each of its state entries and options paths is
// used (momentum, weight decay, amsgrad...), for the tests that must hold for all of them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "embedkit/core/row_sparse.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/weight_grad.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace optim_test {

struct OptimizerCase {
  std::string label;
  std::function<std::unique_ptr<embedkit::optim::Optimizer>(
      std::vector<embedkit::optim::Parameter>)>
      make;
  bool dense = true;   // takes dense gradients
  bool sparse = true;  // takes row-sparse gradients
};

// Each optimizer with weight decay and momentum where it has them, and plain where the decayed
// variant refuses sparse gradients.
std::vector<OptimizerCase> all_optimizers();

// A [rows, dim] table of seeded N(0, 1) values (the padding row included: not zero).
embedkit::Tensor random_table(std::int64_t rows, std::int64_t dim, std::uint64_t seed);

// A gradient for a [rows, dim] table touching rows `ids` (repeats allowed) with N(0, 1) values.
embedkit::nn::WeightGrad sparse_grad(std::int64_t rows, std::int64_t dim,
                                     const std::vector<std::int64_t>& ids, std::uint64_t seed);
embedkit::nn::WeightGrad dense_grad(std::int64_t rows, std::int64_t dim, std::uint64_t seed);

// Same shape, dtype and bits.
bool same_bits(const embedkit::Tensor& a, const embedkit::Tensor& b);
bool same_state(const embedkit::NamedTensors& a, const embedkit::NamedTensors& b);

// Row r of a 2-D float tensor.
std::vector<float> row(const embedkit::Tensor& t, std::int64_t r);

}  // namespace optim_test
