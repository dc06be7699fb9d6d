// LibTorch side of the differential optimizer tests: the comparison (exact, or within a
// tolerance), and the driver that steps embedkit and a PyTorch oracle side by side on a Scenario,
// comparing parameters and state after every step.
//
// Header-only and included by the two LibTorch test files only (ATen is heavy to compile).
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/weight_grad.hpp"
#include "embedkit/optim/optimizer.hpp"
#include "optim/scenario.hpp"
#include "support/torch_bridge.hpp"

namespace optim_test {

// Parameters and gradients go to torch through the shared bridge.
using embedkit_test::to_torch;

// How close embedkit must be. exact: every element equal as a float (NaN equal to NaN); the sign
// of a zero is not compared, because embedkit skips the padding row where PyTorch may write -0.
struct Tolerance {
  bool exact = true;
  double rtol = 0.0;
  double atol = 0.0;
  static Tolerance Exact() { return {}; }
  static Tolerance Close(double rtol, double atol) { return {false, rtol, atol}; }
};

// The largest differences seen, for the tests' report of how far from exact a path is.
struct DiffStats {
  double max_abs = 0.0;
  std::int64_t differing = 0;
  std::int64_t compared = 0;
};

inline testing::AssertionResult matches(const embedkit::Tensor& ours, const at::Tensor& theirs,
                                        const Tolerance& tol, DiffStats& stats) {
  // PyTorch's SGD keeps a sparse momentum buffer for sparse gradients.
  const at::Tensor dense = theirs.is_sparse() ? theirs.to_dense() : theirs;
  const at::Tensor t = dense.detach().to(at::kFloat).contiguous();
  if (ours.numel() != t.numel()) {
    return testing::AssertionFailure() << "sizes differ: " << ours.numel() << " vs " << t.numel();
  }
  const embedkit::Tensor o = ours.to(embedkit::DType::Float32);
  const float* a = o.data<float>();
  const float* b = t.data_ptr<float>();
  for (std::int64_t i = 0; i < o.numel(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    const double diff = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    ++stats.compared;
    if (both_nan || a[i] == b[i]) continue;
    ++stats.differing;
    if (!std::isnan(diff) && diff > stats.max_abs) stats.max_abs = diff;
    const bool ok =
        !tol.exact && diff <= tol.atol + tol.rtol * std::fabs(static_cast<double>(b[i]));
    if (!ok) {
      std::ostringstream msg;
      msg.precision(9);
      msg << "element " << i << ": embedkit " << a[i] << " vs PyTorch " << b[i] << " (diff " << diff
          << (tol.exact ? ", exact match required)" : ", beyond tolerance)");
      return testing::AssertionFailure() << msg.str();
    }
  }
  return testing::AssertionSuccess();
}

// A PyTorch implementation stepping its own copies of the parameters.
class Oracle {
 public:
  virtual ~Oracle() = default;
  // grads[i] belongs to params()[i]; undefined means no gradient.
  virtual void step(const std::vector<at::Tensor>& grads) = 0;
  virtual const std::vector<at::Tensor>& params() const = 0;
  // Parameter i's state under embedkit's field names (empty before its first step).
  virtual std::vector<std::pair<std::string, at::Tensor>> state(std::size_t i) const = 0;
};

inline std::vector<at::Tensor> torch_params(const Scenario& scenario) {
  std::vector<at::Tensor> out;
  for (const auto& p : scenario.params()) out.push_back(to_torch(p.value));
  return out;
}

// Steps both for `steps` steps; after each compares every parameter and every state entry the
// oracle reports (each must exist on embedkit's side too). Returns the differences seen.
inline DiffStats run_differential(const Scenario& scenario, embedkit::optim::Optimizer& ours,
                                  Oracle& theirs, const Tolerance& tol, int steps = 50) {
  at::set_num_threads(1);  // small tensors; and keeps ATen's summation order fixed
  DiffStats stats;
  for (int step = 0; step < steps; ++step) {
    const auto grads = scenario.grads(step);
    ours.step(grads);
    theirs.step(to_torch(grads));
    const auto named = ours.state_dict();
    for (std::size_t i = 0; i < ours.params().size(); ++i) {
      const auto& p = ours.params()[i];
      const auto result = matches(p.value, theirs.params()[i], tol, stats);
      if (!result) {
        ADD_FAILURE() << "step " << step << ", parameter '" << p.name << "': " << result.message();
        return stats;
      }
      for (const auto& [field, value] : theirs.state(i)) {
        const std::string key = p.name + "." + field;
        const embedkit::Tensor* mine = nullptr;
        for (const auto& [k, v] : named) {
          if (k == key) mine = &v;
        }
        if (mine == nullptr) {
          ADD_FAILURE() << "step " << step << ": embedkit has no state entry '" << key << "'";
          return stats;
        }
        const auto r = matches(*mine, value, tol, stats);
        if (!r) {
          ADD_FAILURE() << "step " << step << ", state '" << key << "': " << r.message();
          return stats;
        }
      }
    }
  }
  std::cout << "[ diff     ] " << stats.differing << " of " << stats.compared
            << " compared elements differ, max |diff| " << stats.max_abs << "\n";
  return stats;
}

}  // namespace optim_test
