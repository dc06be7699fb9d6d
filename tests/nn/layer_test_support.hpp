// Torch-free helpers of the layer tests: seeded random tensors, comparisons that report the
// worst element, and a central-difference gradient check for the tests that run without LibTorch.
//
// Tolerances used across tests/nn (float32):
// - bitwise: same bits, except that +0 == -0 and any NaN == any NaN;
// - close(rtol, scale): |ours - ref| <= rtol * (|ref| + scale) per element, NaN and infinities
//   where the reference has them. `scale` is the magnitude the compared numbers were computed
//   from (the largest |ref| of the tensor, or for a matrix product the sum of |x_i w_i|), so a
//   value that cancelled to near zero is judged against the rounding of its inputs, not against
//   itself.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::layers_test {

// N(0, std^2) float32 tensor.
Tensor randn(const Shape& shape, Generator& gen, double std = 1.0);
// U(lo, hi) float32 tensor.
Tensor uniform(const Shape& shape, Generator& gen, double lo, double hi);
// int64 tensor of values in [0, high).
Tensor randint(const Shape& shape, Generator& gen, std::int64_t high);
// A tensor filled with one value.
Tensor full(const Shape& shape, float value);

::testing::AssertionResult bitwise_equal(const Tensor& ours, const Tensor& ref);
::testing::AssertionResult close(const Tensor& ours, const Tensor& ref, double rtol, double scale);
// Per-element scale (same shape as ref).
::testing::AssertionResult close(const Tensor& ours, const Tensor& ref, double rtol,
                                 const Tensor& scale);
// The largest |value| of a float32 tensor (0 for an empty one).
double max_abs(const Tensor& t);

// d f / d x[i] for every element of x by central differences (x is perturbed in place and
// restored), f evaluated in double from float32 results.
std::vector<double> numeric_gradient(Tensor& x, const std::function<double()>& f, double h);
// Checks an analytic gradient against numeric_gradient: |a - n| <= tol * (|n| + 1).
::testing::AssertionResult gradient_matches(const Tensor& analytic,
                                            const std::vector<double>& numeric, double tol);
// sum_i c[i] * y[i] in double: a scalar "loss" whose gradient with respect to y is c.
double dot(const Tensor& y, const Tensor& c);

}  // namespace embedkit::layers_test
