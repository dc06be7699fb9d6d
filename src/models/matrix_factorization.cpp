#include "embedkit/models/matrix_factorization.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/models/mf_batches.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "embedkit/optim/fused_backward.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sparse_adam.hpp"
#include "kernels/cpu/dot.hpp"

namespace embedkit::models {

std::string objective_name(MfObjective objective) {
  return objective == MfObjective::Rating ? "rating" : "bpr";
}

std::string optimizer_name(MfOptimizer optimizer) {
  return optimizer == MfOptimizer::SparseAdam ? "sparse-adam" : "rowwise-adagrad";
}

MfObjective parse_objective(const std::string& name) {
  if (name == "rating") return MfObjective::Rating;
  if (name == "bpr") return MfObjective::Bpr;
  throw ValueError("unknown objective '" + name + "' (expected rating or bpr)");
}

MfOptimizer parse_optimizer(const std::string& name) {
  if (name == "sparse-adam") return MfOptimizer::SparseAdam;
  if (name == "rowwise-adagrad") return MfOptimizer::RowWiseAdagrad;
  throw ValueError("unknown optimizer '" + name + "' (expected sparse-adam or rowwise-adagrad)");
}

void MfOptions::validate() const {
  auto fail = [](const std::string& what) { throw ValueError("matrix factorization: " + what); };
  if (dim < 1) fail("dim must be >= 1");
  if (epochs < 0) fail("epochs must be >= 0");
  if (!(lr > 0.0) || !std::isfinite(lr)) fail("lr must be a positive number");
  if (!(l2 >= 0.0) || !std::isfinite(l2)) fail("l2 must be >= 0");
  if (!(l2_bias >= 0.0) || !std::isfinite(l2_bias)) fail("l2_bias must be >= 0");
  if (batch_size < 1) fail("batch_size must be >= 1");
  if (!(init_std >= 0.0) || !std::isfinite(init_std)) fail("init_std must be >= 0");
}

namespace {

// A prediction sums the factor products from 0 in ascending order: one element of the matrix
// product (kernels/cpu/dot.hpp).
using kernels::cpu::dot_ascending;

nn::Embedding make_table(std::int64_t rows, std::int64_t dim, Generator& gen, double std) {
  nn::Embedding table(nn::EmbeddingOptions(rows, dim), gen);
  if (std > 0.0) {
    fill_normal(table.weight(), gen, 0.0, std);
  } else {
    float* w = table.weight().data<float>();
    std::fill(w, w + table.weight().numel(), 0.0f);
  }
  return table;
}

void check_rows(const std::vector<std::int64_t>& rows, std::int64_t limit, const char* what) {
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (rows[k] < 0 || rows[k] >= limit) {
      throw IndexError(std::string("training ") + what, static_cast<std::int64_t>(k), rows[k], 0,
                       limit - 1);
    }
  }
}

nn::Embedding placeholder() {
  return nn::Embedding(nn::EmbeddingOptions(1, 1).weight(Tensor::zeros({1, 1})));
}

}  // namespace

MatrixFactorization::MatrixFactorization(std::int64_t num_users, std::int64_t num_items,
                                         const MfOptions& options)
    : options_(options),
      // Placeholders over caller-given tables (drawing nothing from the default generator),
      // replaced below once the options are validated.
      user_factors_(placeholder()),
      item_factors_(placeholder()),
      user_bias_(placeholder()),
      item_bias_(placeholder()),
      global_bias_(placeholder()) {
  options.validate();
  if (num_users < 1 || num_items < 1) {
    throw ValueError("matrix factorization needs at least one user and one item");
  }
  Generator gen(options.seed);
  user_factors_ = make_table(num_users, options.dim, gen, options.init_std);
  item_factors_ = make_table(num_items, options.dim, gen, options.init_std);
  user_bias_ = make_table(num_users, 1, gen, 0.0);
  item_bias_ = make_table(num_items, 1, gen, 0.0);
  global_bias_ = make_table(1, 1, gen, 0.0);
}

MatrixFactorization::MatrixFactorization(const MfOptions& options, Tensor user_factors,
                                         Tensor item_factors, Tensor user_bias, Tensor item_bias,
                                         Tensor global_bias)
    : options_(options),
      user_factors_(placeholder()),
      item_factors_(placeholder()),
      user_bias_(placeholder()),
      item_bias_(placeholder()),
      global_bias_(placeholder()) {
  options.validate();
  const std::int64_t nu = user_factors.dim() == 2 ? user_factors.size(0) : 0;
  const std::int64_t ni = item_factors.dim() == 2 ? item_factors.size(0) : 0;
  if (nu < 1 || ni < 1) {
    throw ValueError("matrix factorization needs at least one user and one item");
  }
  const std::pair<const char*, const Tensor*> tables[] = {{"user_factors", &user_factors},
                                                          {"item_factors", &item_factors},
                                                          {"user_bias", &user_bias},
                                                          {"item_bias", &item_bias},
                                                          {"global_bias", &global_bias}};
  const Shape shapes[] = {{nu, options.dim}, {ni, options.dim}, {nu, 1}, {ni, 1}, {1, 1}};
  for (std::size_t k = 0; k < 5; ++k) {
    const Tensor& t = *tables[k].second;
    if (t.dtype() != DType::Float32 || t.shape() != shapes[k]) {
      throw ValueError(std::string("matrix factorization: table ") + tables[k].first + " is " +
                       std::string(dtype_name(t.dtype())) + " " + shape_string(t.shape()) +
                       ", expected float32 " + shape_string(shapes[k]));
    }
  }
  auto table = [](Tensor t) {
    const std::int64_t rows = t.size(0), dim = t.size(1);
    return nn::Embedding(nn::EmbeddingOptions(rows, dim).weight(std::move(t)));
  };
  user_factors_ = table(std::move(user_factors));
  item_factors_ = table(std::move(item_factors));
  user_bias_ = table(std::move(user_bias));
  item_bias_ = table(std::move(item_bias));
  global_bias_ = table(std::move(global_bias));
}

NamedTensors MatrixFactorization::named_parameters() const {
  return {{"user_factors.weight", user_factors_.weight()},
          {"item_factors.weight", item_factors_.weight()},
          {"user_bias.weight", user_bias_.weight()},
          {"item_bias.weight", item_bias_.weight()},
          {"global_bias.weight", global_bias_.weight()}};
}

float MatrixFactorization::score(std::int64_t user, std::int64_t item) const {
  const std::int64_t d = dim();
  const float* p = user_factors_.weight().data<float>() + user * d;
  const float* q = item_factors_.weight().data<float>() + item * d;
  return global_bias_.weight().data<float>()[0] + user_bias_.weight().data<float>()[user] +
         item_bias_.weight().data<float>()[item] + dot_ascending(p, q, d);
}

float MatrixFactorization::item_baseline(std::int64_t item) const {
  return global_bias_.weight().data<float>()[0] + item_bias_.weight().data<float>()[item];
}

std::vector<float> MatrixFactorization::scores_for_user(std::int64_t user) const {
  std::vector<float> out(static_cast<std::size_t>(num_items()));
  for (std::int64_t i = 0; i < num_items(); ++i) out[static_cast<std::size_t>(i)] = score(user, i);
  return out;
}

void MatrixFactorization::fit(const Interactions& train,
                              const std::function<void(const MfEpochReport&)>& on_epoch,
                              const std::function<void()>& between_batches) {
  options_.validate();
  const std::size_t n = train.size();
  if (train.items.size() != n ||
      (options_.objective == MfObjective::Rating && train.ratings.size() != n)) {
    throw ValueError("matrix factorization: users, items and ratings differ in length");
  }
  if (n == 0) throw ValueError("matrix factorization: no training data");
  check_rows(train.users, num_users(), "user rows");
  check_rows(train.items, num_items(), "item rows");
  const bool bpr = options_.objective == MfObjective::Bpr;
  if (!bpr) {
    // A NaN or infinite rating would make the loss NaN and pass for divergence.
    for (std::size_t k = 0; k < n; ++k) {
      if (!std::isfinite(train.ratings[k])) {
        throw ValueError("matrix factorization: rating " + std::to_string(k) + " is not finite");
      }
    }
    double sum = 0.0;
    for (const float r : train.ratings) sum += r;
    global_bias_.weight().data<float>()[0] = static_cast<float>(sum / static_cast<double>(n));
  }

  std::vector<optim::Parameter> params = {
      {"user_factors.weight", user_factors_.weight(), std::nullopt},
      {"item_factors.weight", item_factors_.weight(), std::nullopt},
      {"user_bias.weight", user_bias_.weight(), std::nullopt},
      {"item_bias.weight", item_bias_.weight(), std::nullopt},
      {"global_bias.weight", global_bias_.weight(), std::nullopt}};
  std::unique_ptr<optim::Optimizer> opt;
  if (options_.optimizer == MfOptimizer::SparseAdam) {
    opt = std::make_unique<optim::SparseAdam>(std::move(params),
                                              optim::SparseAdamOptions(options_.lr));
  } else {
    opt = std::make_unique<optim::RowWiseAdagrad>(std::move(params),
                                                  optim::RowWiseAdagradOptions(options_.lr));
  }

  const std::int64_t d = dim();
  MfBatches batches(train, num_users(), num_items(), options_);
  const auto bs = static_cast<std::size_t>(options_.batch_size);
  std::vector<std::int64_t> ub, ib, zeros;
  std::vector<float> ratings;
  MfGradients grads;
  const auto start = std::chrono::steady_clock::now();
  auto last_call = start;
  // The learning-rate option as `embedkit recommend train` spells it, for divergence errors.
  constexpr const char* kRateOption = "--lr";

  for (std::int64_t epoch = 1; epoch <= options_.epochs; ++epoch) {
    batches.shuffle();
    double loss_sum = 0.0;
    for (std::size_t begin = 0; begin < n; begin += bs) {
      if (between_batches) {
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last_call).count() >= kBetweenBatchesSeconds) {
          last_call = now;
          between_batches();
        }
      }
      const std::size_t b = std::min(bs, n - begin);
      const float c = mf_gradient_scale(options_.objective, b);
      batches.batch(begin, b, ub, ib, ratings);
      const Tensor users = Tensor::from_vector(ub);
      const Tensor items = Tensor::from_vector(ib);
      const Tensor p = user_factors_.forward(users);
      const Tensor q = item_factors_.forward(items);
      const Tensor bi = item_bias_.forward(items);
      MfRows rows;
      rows.p = p.data<float>();
      rows.q = q.data<float>();
      rows.item_bias = bi.data<float>();
      const auto nb = static_cast<std::int64_t>(b);
      if (!bpr) {
        const Tensor bu = user_bias_.forward(users);
        rows.user_bias = bu.data<float>();
        rows.global_bias = global_bias_.weight().data<float>();  // one value for every sample
        rating_gradients(rows, ratings.data(), b, d, c, options_, grads, loss_sum);
        zeros.assign(b, 0);
        const Shape col{nb, 1};
        optim::fused_backward_step(user_factors_, users, Tensor::from_floats(grads.p, {nb, d}),
                                   *opt);
        optim::fused_backward_step(item_factors_, items, Tensor::from_floats(grads.q, {nb, d}),
                                   *opt);
        optim::fused_backward_step(user_bias_, users, Tensor::from_floats(grads.user_bias, col),
                                   *opt);
        optim::fused_backward_step(item_bias_, items, Tensor::from_floats(grads.item_bias, col),
                                   *opt);
        optim::fused_backward_step(global_bias_, Tensor::from_vector(zeros),
                                   Tensor::from_floats(grads.global_bias, col), *opt);
      } else {
        bpr_gradients(rows, b, d, c, options_, grads, loss_sum);
        optim::fused_backward_step(user_factors_, users, Tensor::from_floats(grads.p, {nb, d}),
                                   *opt);
        optim::fused_backward_step(item_factors_, items, Tensor::from_floats(grads.q, {2 * nb, d}),
                                   *opt);
        optim::fused_backward_step(item_bias_, items,
                                   Tensor::from_floats(grads.item_bias, {2 * nb, 1}), *opt);
      }
      // One test per batch: a NaN or infinite loss stops training at once.
      if (!std::isfinite(loss_sum)) {
        throw TrainingDivergedError(epoch, "rating", static_cast<std::int64_t>(begin + b),
                                    non_finite_loss(loss_sum), kRateOption);
      }
    }
    if (on_epoch) {
      MfEpochReport report;
      report.epoch = epoch;
      report.loss = loss_sum / static_cast<double>(n);
      report.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      on_epoch(report);
    }
  }
  // The last steps after the last loss check can still overflow (and BPR's loss stays finite
  // when a score difference is +inf): one pass over the tables, cheap next to training.
  for (const auto& [name, table] : named_parameters()) {
    const std::string problem = non_finite_tensor(table, name);
    if (!problem.empty()) {
      throw TrainingDivergedError(options_.epochs, "rating", static_cast<std::int64_t>(n), problem,
                                  kRateOption);
    }
  }
}

}  // namespace embedkit::models
