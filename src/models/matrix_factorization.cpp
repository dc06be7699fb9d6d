#include "embedkit/models/matrix_factorization.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>

#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
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

  // Each user's rated items, sorted, for BPR's negative draws.
  std::vector<std::vector<std::int64_t>> rated;
  if (bpr) {
    rated.resize(static_cast<std::size_t>(num_users()));
    for (std::size_t k = 0; k < n; ++k) {
      rated[static_cast<std::size_t>(train.users[k])].push_back(train.items[k]);
    }
    for (auto& r : rated) {
      std::sort(r.begin(), r.end());
      r.erase(std::unique(r.begin(), r.end()), r.end());
    }
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
  const auto du = static_cast<std::size_t>(d);
  const float l2 = static_cast<float>(options_.l2);
  const float l2b = static_cast<float>(options_.l2_bias);
  Generator gen(options_.seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto bs = static_cast<std::size_t>(options_.batch_size);
  std::vector<std::int64_t> ub, ib, zeros;
  std::vector<float> grad_p, grad_q, grad_bu, grad_bi, grad_g;
  const auto start = std::chrono::steady_clock::now();
  auto last_call = start;
  // The learning-rate option as `embedkit recommend train` spells it, for divergence errors.
  constexpr const char* kRateOption = "--lr";

  for (std::int64_t epoch = 1; epoch <= options_.epochs; ++epoch) {
    for (std::size_t i = n; i > 1; --i) {
      std::swap(order[i - 1], order[static_cast<std::size_t>(gen.next_u64() % i)]);
    }
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
      const float c = (bpr ? 1.0f : 2.0f) / static_cast<float>(b);
      ub.resize(b);
      ib.resize(bpr ? 2 * b : b);
      for (std::size_t k = 0; k < b; ++k) {
        const std::size_t s = order[begin + k];
        ub[k] = train.users[s];
        ib[k] = train.items[s];
        if (bpr) {
          const auto& seen = rated[static_cast<std::size_t>(ub[k])];
          std::int64_t j = 0;
          for (int tries = 0; tries < 10; ++tries) {
            j = static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(num_items()));
            if (!std::binary_search(seen.begin(), seen.end(), j)) break;
          }
          ib[b + k] = j;
        }
      }
      const Tensor users = Tensor::from_vector(ub);
      const Tensor items = Tensor::from_vector(ib);
      const Tensor p = user_factors_.forward(users);
      const Tensor q = item_factors_.forward(items);
      const Tensor bi = item_bias_.forward(items);
      const float* pp = p.data<float>();
      const float* qq = q.data<float>();
      const float* bbi = bi.data<float>();
      grad_p.assign(b * du, 0.0f);
      grad_q.assign(ib.size() * du, 0.0f);
      grad_bi.assign(ib.size(), 0.0f);
      if (!bpr) {
        const Tensor bu = user_bias_.forward(users);
        const float* bbu = bu.data<float>();
        const float g = global_bias_.weight().data<float>()[0];
        grad_bu.assign(b, 0.0f);
        grad_g.assign(b, 0.0f);
        for (std::size_t k = 0; k < b; ++k) {
          const float* pk = pp + k * du;
          const float* qk = qq + k * du;
          const float e =
              g + bbu[k] + bbi[k] + dot_ascending(pk, qk, d) - train.ratings[order[begin + k]];
          loss_sum += static_cast<double>(e) * e;
          float* gp = grad_p.data() + k * du;
          float* gq = grad_q.data() + k * du;
          for (std::size_t j = 0; j < du; ++j) {
            gp[j] = c * (e * qk[j] + l2 * pk[j]);
            gq[j] = c * (e * pk[j] + l2 * qk[j]);
          }
          grad_bu[k] = c * (e + l2b * bbu[k]);
          grad_bi[k] = c * (e + l2b * bbi[k]);
          grad_g[k] = c * e;
        }
        zeros.assign(b, 0);
        const Shape col{static_cast<std::int64_t>(b), 1};
        optim::fused_backward_step(user_factors_, users,
                                   Tensor::from_floats(grad_p, {static_cast<std::int64_t>(b), d}),
                                   *opt);
        optim::fused_backward_step(item_factors_, items,
                                   Tensor::from_floats(grad_q, {static_cast<std::int64_t>(b), d}),
                                   *opt);
        optim::fused_backward_step(user_bias_, users, Tensor::from_floats(grad_bu, col), *opt);
        optim::fused_backward_step(item_bias_, items, Tensor::from_floats(grad_bi, col), *opt);
        optim::fused_backward_step(global_bias_, Tensor::from_vector(zeros),
                                   Tensor::from_floats(grad_g, col), *opt);
      } else {
        for (std::size_t k = 0; k < b; ++k) {
          const float* pk = pp + k * du;
          const float* qi = qq + k * du;
          const float* qj = qq + (b + k) * du;
          const float x = bbi[k] - bbi[b + k] + dot_ascending(pk, qi, d) - dot_ascending(pk, qj, d);
          // -log sigmoid(x) = log1p(exp(-x)), computed stably.
          loss_sum += x > 0
                          ? std::log1p(std::exp(-static_cast<double>(x)))
                          : -static_cast<double>(x) + std::log1p(std::exp(static_cast<double>(x)));
          const float s = 1.0f / (1.0f + std::exp(x));  // sigmoid(-x) = -dLoss/dx
          float* gp = grad_p.data() + k * du;
          float* gi = grad_q.data() + k * du;
          float* gj = grad_q.data() + (b + k) * du;
          for (std::size_t j = 0; j < du; ++j) {
            gp[j] = c * (-s * (qi[j] - qj[j]) + l2 * pk[j]);
            gi[j] = c * (-s * pk[j] + l2 * qi[j]);
            gj[j] = c * (s * pk[j] + l2 * qj[j]);
          }
          grad_bi[k] = c * (-s + l2b * bbi[k]);
          grad_bi[b + k] = c * (s + l2b * bbi[b + k]);
        }
        const auto nb = static_cast<std::int64_t>(b);
        optim::fused_backward_step(user_factors_, users, Tensor::from_floats(grad_p, {nb, d}),
                                   *opt);
        optim::fused_backward_step(item_factors_, items, Tensor::from_floats(grad_q, {2 * nb, d}),
                                   *opt);
        optim::fused_backward_step(item_bias_, items, Tensor::from_floats(grad_bi, {2 * nb, 1}),
                                   *opt);
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
