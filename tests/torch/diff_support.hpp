// Torch-free helpers of the differential tests: a seeded random generator, the replay settings
// read from the environment, tensor comparisons with readable failure reports, and a plain
// double-precision model of the bag reductions (for tolerance magnitudes and for the cases where
// LibTorch 1.13 is known to be wrong).
//
// Everything that needs <ATen/ATen.h> lives in torch_oracle.hpp and the test files, so this file
// and diff_support.cpp / cases.cpp compile quickly.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/embedding_bag.hpp"

namespace embedkit_diff {

using embedkit::DType;
using embedkit::Shape;
using embedkit::Tensor;

// splitmix64: tiny, well mixed, and identical on every platform (unlike the standard library's
// distributions), so a printed seed replays the same case anywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform integer in [lo, hi] (inclusive); lo <= hi.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  // Uniform double in [0, 1).
  double uniform01();
  bool bernoulli(double p) { return uniform01() < p; }
  // Standard normal (Box-Muller).
  double normal();
  template <class T>
  T pick(const std::vector<T>& options) {
    return options[static_cast<std::size_t>(
        uniform_int(0, static_cast<std::int64_t>(options.size()) - 1))];
  }

 private:
  std::uint64_t state_;
};

std::uint64_t mix64(std::uint64_t x);

// Replay settings. EMBEDKIT_DIFF_SEED overrides the base seed; EMBEDKIT_DIFF_CASE runs only that
// case number; EMBEDKIT_DIFF_CASES overrides the number of cases per randomized test.
std::uint64_t base_seed();
std::optional<int> only_case();
int case_count(int default_count);
// The seed of case `index` of the randomized test `stream` (each test has its own stream, so a
// case replays alone with exactly the data it had in the full run).
std::uint64_t case_seed(std::uint64_t base, std::uint64_t stream, int index);
// "EMBEDKIT_DIFF_SEED=... EMBEDKIT_DIFF_CASE=... --gtest_filter=<current test>".
std::string replay_line(std::uint64_t base, int index);
// Failures recorded so far by the running test (to count failing cases).
int failures_so_far();

// Values drawn from N(0, 1), rounded to `dtype` (float32/float16/bfloat16).
Tensor random_floats(Rng& rng, const Shape& shape, DType dtype);
// Integer values stored as int32 or int64.
Tensor index_tensor(const std::vector<std::int64_t>& values, const Shape& shape, DType dtype);

std::string join(const std::vector<std::int64_t>& values);
std::string join(const std::vector<double>& values);
std::string optional_string(const std::optional<std::int64_t>& value);
std::string optional_string(const std::optional<double>& value);

// Tolerances of the non-bitwise comparisons (the reasons are in the test files' headers):
// |actual - expected| <= atol + rtol * max(|expected|, magnitude), where magnitude (when known)
// is the same computation on absolute values, i.e. the size of the terms that were summed; it
// bounds the rounding differences that a different summation order or fused multiply-adds cause.
struct Tolerance {
  double atol;
  double rtol;
};
Tolerance tolerance_for(DType dtype);

// Same dtype, same shape and identical bits.
::testing::AssertionResult bitwise_equal(const std::string& what, const Tensor& actual,
                                         const Tensor& expected);
// Same shape (dtypes may differ: bfloat16 results are checked against float32 ones) and every
// element within tolerance. `magnitude` is empty or has one entry per element.
::testing::AssertionResult all_close(const std::string& what, const Tensor& actual,
                                     const Tensor& expected, Tolerance tol,
                                     const std::vector<double>& magnitude = {});
// The same against values of the double-precision model (row-major, actual's shape).
::testing::AssertionResult all_close(const std::string& what, const Tensor& actual,
                                     const std::vector<double>& expected, Tolerance tol,
                                     const std::vector<double>& magnitude = {});
// Integer tensors with the same values (dtype ignored: torch's sparse indices are int64).
::testing::AssertionResult same_integers(const std::string& what, const Tensor& actual,
                                         const Tensor& expected);

// A bag problem in plain numbers, for the double-precision model below.
struct BagProblem {
  std::int64_t num_rows = 0;
  std::int64_t dim = 0;
  std::vector<std::int64_t> ids;     // flattened
  std::vector<std::int64_t> bounds;  // num_bags + 1 entries; bag b = ids[bounds[b], bounds[b+1])
  embedkit::nn::BagMode mode = embedkit::nn::BagMode::Sum;
  std::int64_t padding_idx = -1;           // wrapped; -1: none
  std::vector<double> per_sample_weights;  // empty: none
  bool scale_grad_by_freq = false;
  std::int64_t num_bags() const { return static_cast<std::int64_t>(bounds.size()) - 1; }
};

// Output, table gradient and per-sample-weight gradient, each with its magnitude (the same sums
// over absolute values). The gradient uses the correct scale_grad_by_freq semantics: divide by the
// row's count over the whole input (as nn.Embedding does).
struct BagModel {
  std::vector<double> output, output_magnitude;
  std::vector<double> grad_weight, grad_weight_magnitude;
  std::vector<double> grad_psw, grad_psw_magnitude;
};
BagModel model_bag(const BagProblem& problem, const std::vector<double>& table,
                   const std::vector<double>& grad_output);

std::vector<double> to_doubles(const Tensor& t);
// The given rows of a row-major [rows, dim] matrix, concatenated.
std::vector<double> rows_of(const std::vector<double>& matrix, const Tensor& rows,
                            std::int64_t dim);
// The rows of a 2-D `after` whose values differ from `before` (dtypes may differ).
std::vector<std::int64_t> changed_rows(const Tensor& before, const Tensor& after);

}  // namespace embedkit_diff
