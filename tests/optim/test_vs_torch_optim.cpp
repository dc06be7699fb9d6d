// Differential tests: SGD, Adagrad, Adam and AdamW against LibTorch 1.13's torch::optim, 50
// steps each on seeded embedding gradients (repeats, padding, an empty batch, a parameter
// without gradient on some steps), dense and row-sparse, comparing parameters and state after
// every step.
//
// torch::optim (C++) performs the same ATen operations as torch/optim/*.py 1.13 for these
// options; it has no `maximize`, which the oracle reproduces as Python does: by negating the
// gradient before anything else. Exact (every element equal) wherever embedkit follows
// PyTorch's operations; the one tolerance is SGD with momentum on row-sparse gradients, where
// PyTorch's growing sparse buffer applies the same terms in another grouping than embedkit's
// dense buffer.
#include <torch/optim/adagrad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/adamw.hpp"
#include "embedkit/optim/sgd.hpp"
#include "optim/torch_support.hpp"

namespace optim_test {
namespace {

namespace eo = embedkit::optim;

// How the oracle hands embedkit's gradients to torch::optim.
struct Feed {
  // torch.optim's maximize is `grad = -grad` before anything else; torch::optim (C++) has no
  // maximize option, so the oracle negates the gradient itself.
  bool maximize = false;
  // Give a row-sparse gradient as torch.coalesce().to_dense(): PyTorch's dense path on the same
  // gradient.
  bool densify = false;
  // PyTorch 1.13's sparse Adagrad (and SparseAdam) raise on an empty sparse gradient (a batch of
  // padding only), after counting the step. embedkit counts the step and changes nothing, which
  // is exactly what PyTorch does with a zero dense gradient: the oracle is given that.
  bool empty_sparse_as_zero = false;
};

// A torch::optim optimizer over its own parameter copies; `fields` reads a parameter's state.
template <class TorchOpt, class TorchState>
class TorchOptimOracle final : public Oracle {
 public:
  using Fields = std::function<std::vector<std::pair<std::string, at::Tensor>>(const TorchState&)>;

  template <class TorchOptions>
  TorchOptimOracle(const Scenario& scenario, const TorchOptions& options, Feed feed, Fields fields)
      : params_(torch_params(scenario)), feed_(feed), fields_(std::move(fields)) {
    for (auto& p : params_) p.set_requires_grad(true);
    opt_ = std::make_unique<TorchOpt>(params_, options);
  }

  void step(const std::vector<at::Tensor>& grads) override {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      at::Tensor g = grads[i];
      if (g.defined() && g.is_sparse()) {
        if (feed_.densify || (feed_.empty_sparse_as_zero && g._nnz() == 0)) {
          g = g.coalesce().to_dense();
        }
      }
      params_[i].mutable_grad() = g.defined() && feed_.maximize ? g.neg() : g;
    }
    opt_->step();
  }
  const std::vector<at::Tensor>& params() const override { return params_; }
  std::vector<std::pair<std::string, at::Tensor>> state(std::size_t i) const override {
    const auto& all = opt_->state();
    const auto it = all.find(c10::guts::to_string(params_[i].unsafeGetTensorImpl()));
    if (it == all.end()) return {};
    return fields_(static_cast<const TorchState&>(*it->second));
  }

 private:
  std::vector<at::Tensor> params_;
  Feed feed_;
  Fields fields_;
  std::unique_ptr<TorchOpt> opt_;
};

at::Tensor step_tensor(std::int64_t step) {
  return at::scalar_tensor(static_cast<double>(step));
}

std::vector<std::pair<std::string, at::Tensor>> sgd_fields(const torch::optim::SGDParamState& s) {
  return {{"momentum_buffer", s.momentum_buffer()}};
}
std::vector<std::pair<std::string, at::Tensor>> adagrad_fields(
    const torch::optim::AdagradParamState& s) {
  return {{"step", step_tensor(s.step())}, {"sum", s.sum()}};
}
template <class S>
std::vector<std::pair<std::string, at::Tensor>> adam_fields(const S& s) {
  std::vector<std::pair<std::string, at::Tensor>> out = {
      {"step", step_tensor(s.step())}, {"exp_avg", s.exp_avg()}, {"exp_avg_sq", s.exp_avg_sq()}};
  if (s.max_exp_avg_sq().defined()) out.emplace_back("max_exp_avg_sq", s.max_exp_avg_sq());
  return out;
}

ScenarioConfig config(bool sparse, std::uint64_t seed) {
  ScenarioConfig c;
  c.sparse = sparse;
  c.seed = seed;
  return c;
}

// ----- SGD --------------------------------------------------------------------------------

struct SGDCase {
  const char* label;
  eo::SGDOptions options;
  bool sparse;
  Tolerance tol;
  bool densify = false;
};

void run_sgd(const SGDCase& c, std::uint64_t seed) {
  SCOPED_TRACE(c.label);
  const Scenario scenario(config(c.sparse, seed));
  eo::SGD ours(scenario.params(), c.options);
  const auto& o = c.options;
  TorchOptimOracle<torch::optim::SGD, torch::optim::SGDParamState> theirs(
      scenario,
      torch::optim::SGDOptions(o.lr())
          .momentum(o.momentum())
          .dampening(o.dampening())
          .weight_decay(o.weight_decay())
          .nesterov(o.nesterov()),
      Feed{o.maximize(), c.densify, false}, sgd_fields);
  run_differential(scenario, ours, theirs, c.tol);
}

TEST(OptimVsTorch, SGDDense) {
  const std::vector<SGDCase> cases = {
      {"plain", eo::SGDOptions(0.1), false, Tolerance::Exact()},
      {"weight decay", eo::SGDOptions(0.05).weight_decay(0.1), false, Tolerance::Exact()},
      {"momentum, dampening", eo::SGDOptions(0.05).momentum(0.9).dampening(0.1), false,
       Tolerance::Exact()},
      {"nesterov, weight decay",
       eo::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01), false,
       Tolerance::Exact()},
      {"maximize, momentum", eo::SGDOptions(0.05).momentum(0.5).maximize(true), false,
       Tolerance::Exact()},
  };
  std::uint64_t seed = 11;
  for (const auto& c : cases) run_sgd(c, seed++);
}

TEST(OptimVsTorch, SGDRowSparse) {
  const std::vector<SGDCase> cases = {
      // Entry by entry, in the gradient's order, exactly as PyTorch adds an uncoalesced grad.
      {"plain", eo::SGDOptions(0.1), true, Tolerance::Exact()},
      {"maximize", eo::SGDOptions(0.1).maximize(true), true, Tolerance::Exact()},
      // PyTorch's sparse buffer keeps every step's entries apart (914 of them after 50 steps
      // here) and adds them to the parameter one by one; embedkit's dense buffer sums them as
      // they come. Same terms, other grouping: PyTorch's own sparse and dense paths differ by
      // as much (6e-6 on values up to 10 after 50 steps).
      {"momentum, dampening", eo::SGDOptions(0.05).momentum(0.9).dampening(0.1), true,
       Tolerance::Close(1e-5, 5e-5)},
      {"nesterov", eo::SGDOptions(0.05).momentum(0.9).nesterov(true), true,
       Tolerance::Close(1e-5, 5e-5)},
      // Against PyTorch's dense path on the same (coalesced) gradient embedkit is exact.
      {"momentum, dampening vs dense", eo::SGDOptions(0.05).momentum(0.9).dampening(0.1), true,
       Tolerance::Exact(), true},
      {"nesterov, maximize vs dense",
       eo::SGDOptions(0.05).momentum(0.9).nesterov(true).maximize(true), true, Tolerance::Exact(),
       true},
  };
  std::uint64_t seed = 21;
  for (const auto& c : cases) run_sgd(c, seed++);
}

// ----- Adagrad ----------------------------------------------------------------------------

struct AdagradCase {
  const char* label;
  eo::AdagradOptions options;
  bool sparse;
};

void run_adagrad(const AdagradCase& c, std::uint64_t seed) {
  SCOPED_TRACE(c.label);
  const Scenario scenario(config(c.sparse, seed));
  eo::Adagrad ours(scenario.params(), c.options);
  const auto& o = c.options;
  TorchOptimOracle<torch::optim::Adagrad, torch::optim::AdagradParamState> theirs(
      scenario,
      torch::optim::AdagradOptions(o.lr())
          .lr_decay(o.lr_decay())
          .weight_decay(o.weight_decay())
          .initial_accumulator_value(o.initial_accumulator_value())
          .eps(o.eps()),
      Feed{o.maximize(), false, true}, adagrad_fields);
  run_differential(scenario, ours, theirs, Tolerance::Exact());
}

std::vector<AdagradCase> adagrad_cases(bool sparse) {
  std::vector<AdagradCase> cases = {
      {"plain", eo::AdagradOptions(0.1), sparse},
      {"lr_decay, initial accumulator, eps",
       eo::AdagradOptions(0.1).lr_decay(0.01).initial_accumulator_value(0.1).eps(1e-6), sparse},
      {"maximize", eo::AdagradOptions(0.1).maximize(true), sparse},
  };
  if (!sparse) cases.push_back({"weight decay", eo::AdagradOptions(0.1).weight_decay(0.05), false});
  return cases;
}

TEST(OptimVsTorch, AdagradDense) {
  std::uint64_t seed = 31;
  for (const auto& c : adagrad_cases(false)) run_adagrad(c, seed++);
}

TEST(OptimVsTorch, AdagradRowSparse) {
  std::uint64_t seed = 41;
  for (const auto& c : adagrad_cases(true)) run_adagrad(c, seed++);
}

// ----- Adam, AdamW ------------------------------------------------------------------------

TEST(OptimVsTorch, AdamDense) {
  const std::vector<std::pair<const char*, eo::AdamOptions>> cases = {
      {"defaults, lr 1e-2", eo::AdamOptions(1e-2)},
      {"amsgrad, weight decay, betas",
       eo::AdamOptions(1e-2).amsgrad(true).weight_decay(0.01).betas({0.8, 0.99})},
      {"maximize, large eps", eo::AdamOptions(1e-2).maximize(true).eps(1e-3)},
  };
  std::uint64_t seed = 51;
  for (const auto& [label, o] : cases) {
    SCOPED_TRACE(label);
    const Scenario scenario(config(false, seed++));
    eo::Adam ours(scenario.params(), o);
    TorchOptimOracle<torch::optim::Adam, torch::optim::AdamParamState> theirs(
        scenario,
        torch::optim::AdamOptions(o.lr())
            .betas(o.betas())
            .eps(o.eps())
            .weight_decay(o.weight_decay())
            .amsgrad(o.amsgrad()),
        Feed{o.maximize(), false, false}, adam_fields<torch::optim::AdamParamState>);
    run_differential(scenario, ours, theirs, Tolerance::Exact());
  }
}

TEST(OptimVsTorch, AdamWDense) {
  const std::vector<std::pair<const char*, eo::AdamWOptions>> cases = {
      {"defaults, lr 1e-2", eo::AdamWOptions(1e-2)},
      {"amsgrad, weight decay 0.1, maximize",
       eo::AdamWOptions(1e-2).amsgrad(true).weight_decay(0.1).maximize(true)},
      {"no weight decay, betas", eo::AdamWOptions(1e-2).weight_decay(0.0).betas({0.5, 0.9})},
  };
  std::uint64_t seed = 61;
  for (const auto& [label, o] : cases) {
    SCOPED_TRACE(label);
    const Scenario scenario(config(false, seed++));
    eo::AdamW ours(scenario.params(), o);
    TorchOptimOracle<torch::optim::AdamW, torch::optim::AdamWParamState> theirs(
        scenario,
        torch::optim::AdamWOptions(o.lr())
            .betas(o.betas())
            .eps(o.eps())
            .weight_decay(o.weight_decay())
            .amsgrad(o.amsgrad()),
        Feed{o.maximize(), false, false}, adam_fields<torch::optim::AdamWParamState>);
    run_differential(scenario, ours, theirs, Tolerance::Exact());
  }
}

}  // namespace
}  // namespace optim_test
