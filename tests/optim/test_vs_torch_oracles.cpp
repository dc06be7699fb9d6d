// Differential tests for the optimizers LibTorch's C++ API lacks, 50 steps each on seeded
// embedding gradients (repeats, padding, an empty batch, a parameter without gradient on some
// steps), comparing parameters and state after every step. The oracles are written here with
// ATen operations:
//  - SparseAdam: torch/optim/_functional.py sparse_adam of PyTorch 1.13, operation for
//    operation (torch::optim has no SparseAdam). Exact.
//  - LazyAdam: torch.optim.Adam 1.13's operations applied to each touched row with that row's
//    own step count. Exact.
//  - RowWiseAdagrad: FBGEMM's EXACT_ROWWISE_ADAGRAD formula with ATen reductions. ATen sums a
//    row's squares in another order than FBGEMM's left-to-right loop, so within a tolerance.
#include <cmath>

#include "embedkit/optim/lazy_adam.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sparse_adam.hpp"
#include "optim/torch_support.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;
using Named = std::vector<std::pair<std::string, at::Tensor>>;

// The rows a gradient updates: a coalesced sparse gradient's rows, or every row but the padding
// row for a dense one (the padding row is embedkit's rule, which the oracles follow).
struct RowGrad {
  std::vector<std::int64_t> rows;
  at::Tensor values;  // [rows.size(), dim]
};

RowGrad touched_rows(const at::Tensor& grad, const std::optional<std::int64_t>& padding_idx) {
  RowGrad out;
  if (grad.is_sparse()) {
    const at::Tensor c = grad.coalesce();
    const at::Tensor idx = c._indices()[0];
    for (std::int64_t k = 0; k < idx.size(0); ++k) out.rows.push_back(idx[k].item<std::int64_t>());
    out.values = c._values();
    return out;
  }
  for (std::int64_t r = 0; r < grad.size(0); ++r) {
    if (!padding_idx || r != *padding_idx) out.rows.push_back(r);
  }
  out.values = grad.index_select(0, at::tensor(out.rows, at::kLong));
  return out;
}

// Common plumbing: parameter copies, padding rows, per-parameter state.
class RowOracle : public Oracle {
 public:
  explicit RowOracle(const Scenario& scenario) : params_(torch_params(scenario)) {
    for (const auto& p : scenario.params()) padding_.push_back(p.padding_idx);
  }
  const std::vector<at::Tensor>& params() const override { return params_; }

 protected:
  std::vector<at::Tensor> params_;
  std::vector<std::optional<std::int64_t>> padding_;
};

// ----- SparseAdam -------------------------------------------------------------------------

class SparseAdamOracle final : public RowOracle {
 public:
  SparseAdamOracle(const Scenario& scenario, const eo::SparseAdamOptions& options)
      : RowOracle(scenario), options_(options), state_(params_.size()) {}

  void step(const std::vector<at::Tensor>& grads) override {
    const auto [beta1, beta2] = options_.betas();
    const double lr = options_.lr();
    const double eps = options_.eps();
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!grads[i].defined()) continue;
      State& s = state_[i];
      if (!s.exp_avg.defined()) {
        s.exp_avg = at::zeros_like(params_[i]);
        s.exp_avg_sq = at::zeros_like(params_[i]);
      }
      s.step += 1;
      // PyTorch 1.13 raises on an empty sparse gradient after counting the step; embedkit
      // counts it and changes nothing.
      if (grads[i]._nnz() == 0) continue;
      at::Tensor grad = options_.maximize() ? grads[i].neg() : grads[i];
      grad = grad.coalesce();
      const at::Tensor indices = grad._indices();
      const at::Tensor values = grad._values();
      const auto make_sparse = [&](const at::Tensor& v) {
        return at::sparse_coo_tensor(indices, v, grad.sizes());
      };
      const at::Tensor old_exp_avg_values = s.exp_avg.sparse_mask(grad)._values();
      at::Tensor exp_avg_update_values = values.sub(old_exp_avg_values).mul_(1 - beta1);
      s.exp_avg.add_(make_sparse(exp_avg_update_values));
      const at::Tensor old_exp_avg_sq_values = s.exp_avg_sq.sparse_mask(grad)._values();
      at::Tensor exp_avg_sq_update_values =
          values.pow(2).sub_(old_exp_avg_sq_values).mul_(1 - beta2);
      s.exp_avg_sq.add_(make_sparse(exp_avg_sq_update_values));
      at::Tensor numer = exp_avg_update_values.add_(old_exp_avg_values);
      exp_avg_sq_update_values.add_(old_exp_avg_sq_values);
      const at::Tensor denom = exp_avg_sq_update_values.sqrt_().add_(eps);
      const double step = static_cast<double>(s.step);
      const double bias_correction1 = 1 - std::pow(beta1, step);
      const double bias_correction2 = 1 - std::pow(beta2, step);
      const double step_size = lr * std::sqrt(bias_correction2) / bias_correction1;
      params_[i].add_(make_sparse(numer.div_(denom).mul(-step_size)));
    }
  }
  Named state(std::size_t i) const override {
    const State& s = state_[i];
    if (!s.exp_avg.defined()) return {};
    return {{"step", at::scalar_tensor(static_cast<double>(s.step))},
            {"exp_avg", s.exp_avg},
            {"exp_avg_sq", s.exp_avg_sq}};
  }

 private:
  struct State {
    std::int64_t step = 0;
    at::Tensor exp_avg;
    at::Tensor exp_avg_sq;
  };
  eo::SparseAdamOptions options_;
  std::vector<State> state_;
};

TEST(OptimVsTorch, SparseAdamRowSparse) {
  const std::vector<std::pair<const char*, eo::SparseAdamOptions>> cases = {
      {"lr 1e-2", eo::SparseAdamOptions(1e-2)},
      {"maximize, betas, large eps",
       eo::SparseAdamOptions(1e-2).maximize(true).betas({0.8, 0.95}).eps(1e-3)},
  };
  std::uint64_t seed = 71;
  for (const auto& [label, options] : cases) {
    SCOPED_TRACE(label);
    ScenarioConfig config;
    config.sparse = true;
    config.second_sparse = true;  // SparseAdam takes no dense gradient
    config.seed = seed++;
    const Scenario scenario(config);
    eo::SparseAdam ours(scenario.params(), options);
    SparseAdamOracle theirs(scenario, options);
    run_differential(scenario, ours, theirs, Tolerance::Exact());
  }
}

// ----- LazyAdam ---------------------------------------------------------------------------

class LazyAdamOracle final : public RowOracle {
 public:
  LazyAdamOracle(const Scenario& scenario, const eo::LazyAdamOptions& options)
      : RowOracle(scenario), options_(options), state_(params_.size()) {}

  void step(const std::vector<at::Tensor>& grads) override {
    const auto [beta1, beta2] = options_.betas();
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!grads[i].defined()) continue;
      State& s = state_[i];
      if (!s.step.defined()) {
        s.step = at::zeros({params_[i].size(0)}, at::kLong);
        s.exp_avg = at::zeros_like(params_[i]);
        s.exp_avg_sq = at::zeros_like(params_[i]);
      }
      const RowGrad g = touched_rows(grads[i], padding_[i]);
      for (std::size_t k = 0; k < g.rows.size(); ++k) {
        const std::int64_t r = g.rows[k];
        // _single_tensor_adam on row r, with the row's own step.
        const std::int64_t t = s.step[r].item<std::int64_t>() + 1;
        s.step[r] = t;
        at::Tensor grad = g.values[static_cast<std::int64_t>(k)];
        if (options_.maximize()) grad = grad.neg();
        at::Tensor param = params_[i][r];
        at::Tensor exp_avg = s.exp_avg[r];
        at::Tensor exp_avg_sq = s.exp_avg_sq[r];
        exp_avg.mul_(beta1).add_(grad, 1 - beta1);
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        const double step = static_cast<double>(t);
        const double bias_correction1 = 1 - std::pow(beta1, step);
        const double bias_correction2 = 1 - std::pow(beta2, step);
        const double step_size = options_.lr() / bias_correction1;
        const double bias_correction2_sqrt = std::sqrt(bias_correction2);
        const at::Tensor denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(options_.eps());
        param.addcdiv_(exp_avg, denom, -step_size);
      }
    }
  }
  Named state(std::size_t i) const override {
    const State& s = state_[i];
    if (!s.step.defined()) return {};
    return {{"step", s.step}, {"exp_avg", s.exp_avg}, {"exp_avg_sq", s.exp_avg_sq}};
  }

 private:
  struct State {
    at::Tensor step;
    at::Tensor exp_avg;
    at::Tensor exp_avg_sq;
  };
  eo::LazyAdamOptions options_;
  std::vector<State> state_;
};

void run_lazy_adam(bool sparse, std::uint64_t seed) {
  const std::vector<std::pair<const char*, eo::LazyAdamOptions>> cases = {
      {"lr 1e-2", eo::LazyAdamOptions(1e-2)},
      {"maximize, betas, large eps",
       eo::LazyAdamOptions(1e-2).maximize(true).betas({0.8, 0.95}).eps(1e-3)},
  };
  for (const auto& [label, options] : cases) {
    SCOPED_TRACE(label);
    ScenarioConfig config;
    config.sparse = sparse;
    config.seed = seed++;
    const Scenario scenario(config);
    eo::LazyAdam ours(scenario.params(), options);
    LazyAdamOracle theirs(scenario, options);
    run_differential(scenario, ours, theirs, Tolerance::Exact());
  }
}

TEST(OptimVsTorch, LazyAdamDense) {
  run_lazy_adam(false, 81);
}
TEST(OptimVsTorch, LazyAdamRowSparse) {
  run_lazy_adam(true, 91);
}

// ----- RowWiseAdagrad ---------------------------------------------------------------------

class RowWiseAdagradOracle final : public RowOracle {
 public:
  RowWiseAdagradOracle(const Scenario& scenario, const eo::RowWiseAdagradOptions& options)
      : RowOracle(scenario), options_(options) {
    for (const auto& p : params_) sums_.push_back(at::zeros({p.size(0)}));
  }

  void step(const std::vector<at::Tensor>& grads) override {
    const double lr = options_.lr();
    const double wd = options_.weight_decay();
    const bool l2 = wd != 0 && options_.weight_decay_mode() == eo::WeightDecayMode::L2;
    const bool decoupled = wd != 0 && !l2;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!grads[i].defined()) continue;
      const RowGrad g = touched_rows(grads[i], padding_[i]);
      if (g.rows.empty()) continue;
      const at::Tensor rows = at::tensor(g.rows, at::kLong);
      const at::Tensor w = params_[i].index_select(0, rows);
      const at::Tensor decayed = l2 ? g.values + wd * w : g.values;
      const at::Tensor sum = sums_[i].index_select(0, rows) + decayed.pow(2).mean(1);
      sums_[i].index_copy_(0, rows, sum);
      const at::Tensor multiplier = lr / (sum.sqrt() + options_.eps());
      const at::Tensor correction = l2          ? 1 - multiplier * wd
                                    : decoupled ? at::full_like(multiplier, 1 - lr * wd)
                                                : at::ones_like(multiplier);
      params_[i].index_copy_(0, rows,
                             correction.unsqueeze(1) * w - g.values * multiplier.unsqueeze(1));
    }
  }
  Named state(std::size_t i) const override { return {{"sum", sums_[i]}}; }

 private:
  eo::RowWiseAdagradOptions options_;
  std::vector<at::Tensor> sums_;
};

void run_rowwise_adagrad(bool sparse, std::uint64_t seed) {
  const std::vector<std::pair<const char*, eo::RowWiseAdagradOptions>> cases = {
      {"lr 0.1", eo::RowWiseAdagradOptions(0.1)},
      {"L2 weight decay", eo::RowWiseAdagradOptions(0.1).weight_decay(0.05)},
      {"decoupled weight decay",
       eo::RowWiseAdagradOptions(0.1).weight_decay(0.05).weight_decay_mode(
           eo::WeightDecayMode::Decoupled)},
  };
  for (const auto& [label, options] : cases) {
    SCOPED_TRACE(label);
    ScenarioConfig config;
    config.sparse = sparse;
    config.seed = seed++;
    const Scenario scenario(config);
    eo::RowWiseAdagrad ours(scenario.params(), options);
    RowWiseAdagradOracle theirs(scenario, options);
    run_differential(scenario, ours, theirs, Tolerance::Close(1e-6, 1e-7));
  }
}

TEST(OptimVsTorch, RowWiseAdagradDense) {
  run_rowwise_adagrad(false, 101);
}
TEST(OptimVsTorch, RowWiseAdagradRowSparse) {
  run_rowwise_adagrad(true, 111);
}

}  // namespace
}  // namespace optim_test
