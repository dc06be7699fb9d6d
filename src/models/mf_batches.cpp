#include "embedkit/models/mf_batches.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "kernels/cpu/dot.hpp"

namespace embedkit::models {

namespace {

// A prediction sums the factor products from 0 in ascending order: one element of the matrix
// product (kernels/cpu/dot.hpp).
using kernels::cpu::dot_ascending;

}  // namespace

MfBatches::MfBatches(const Interactions& train, std::int64_t num_users, std::int64_t num_items,
                     const MfOptions& options)
    : train_(train),
      num_items_(num_items),
      bpr_(options.objective == MfObjective::Bpr),
      gen_(options.seed ^ 0x9e3779b97f4a7c15ULL),
      order_(train.size()) {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (!bpr_) return;
  rated_.resize(static_cast<std::size_t>(num_users));
  for (std::size_t k = 0; k < train.size(); ++k) {
    rated_[static_cast<std::size_t>(train.users[k])].push_back(train.items[k]);
  }
  for (auto& r : rated_) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
}

void MfBatches::shuffle() {
  for (std::size_t i = order_.size(); i > 1; --i) {
    std::swap(order_[i - 1], order_[static_cast<std::size_t>(gen_.next_u64() % i)]);
  }
}

void MfBatches::batch(std::size_t begin, std::size_t b, std::vector<std::int64_t>& users,
                      std::vector<std::int64_t>& items, std::vector<float>& ratings) {
  users.resize(b);
  items.resize(bpr_ ? 2 * b : b);
  ratings.resize(bpr_ ? 0 : b);
  for (std::size_t k = 0; k < b; ++k) {
    const std::size_t s = order_[begin + k];
    users[k] = train_.users[s];
    items[k] = train_.items[s];
    if (!bpr_) {
      ratings[k] = train_.ratings[s];
      continue;
    }
    const auto& seen = rated_[static_cast<std::size_t>(users[k])];
    std::int64_t j = 0;
    for (int tries = 0; tries < 10; ++tries) {
      j = static_cast<std::int64_t>(gen_.next_u64() % static_cast<std::uint64_t>(num_items_));
      if (!std::binary_search(seen.begin(), seen.end(), j)) break;
    }
    items[b + k] = j;
  }
}

float mf_gradient_scale(MfObjective objective, std::size_t b) {
  return (objective == MfObjective::Bpr ? 1.0f : 2.0f) / static_cast<float>(b);
}

void rating_gradients(const MfRows& rows, const float* ratings, std::size_t m, std::int64_t dim,
                      float scale, const MfOptions& options, MfGradients& out, double& loss_sum) {
  const auto du = static_cast<std::size_t>(dim);
  const float c = scale;
  const float l2 = static_cast<float>(options.l2);
  const float l2b = static_cast<float>(options.l2_bias);
  out.p.assign(m * du, 0.0f);
  out.q.assign(m * du, 0.0f);
  out.user_bias.assign(m, 0.0f);
  out.item_bias.assign(m, 0.0f);
  out.global_bias.assign(m, 0.0f);
  for (std::size_t k = 0; k < m; ++k) {
    const float* pk = rows.p + k * du;
    const float* qk = rows.q + k * du;
    const float bu = rows.user_bias[k];
    const float bi = rows.item_bias[k];
    const float g = rows.global_bias[k * rows.global_bias_stride];
    const float e = g + bu + bi + dot_ascending(pk, qk, dim) - ratings[k];
    loss_sum += static_cast<double>(e) * e;
    float* gp = out.p.data() + k * du;
    float* gq = out.q.data() + k * du;
    for (std::size_t j = 0; j < du; ++j) {
      gp[j] = c * (e * qk[j] + l2 * pk[j]);
      gq[j] = c * (e * pk[j] + l2 * qk[j]);
    }
    out.user_bias[k] = c * (e + l2b * bu);
    out.item_bias[k] = c * (e + l2b * bi);
    out.global_bias[k] = c * e;
  }
}

void bpr_gradients(const MfRows& rows, std::size_t m, std::int64_t dim, float scale,
                   const MfOptions& options, MfGradients& out, double& loss_sum) {
  const auto du = static_cast<std::size_t>(dim);
  const float c = scale;
  const float l2 = static_cast<float>(options.l2);
  const float l2b = static_cast<float>(options.l2_bias);
  out.p.assign(m * du, 0.0f);
  out.q.assign(2 * m * du, 0.0f);
  out.item_bias.assign(2 * m, 0.0f);
  for (std::size_t k = 0; k < m; ++k) {
    const float* pk = rows.p + k * du;
    const float* qi = rows.q + k * du;
    const float* qj = rows.q + (m + k) * du;
    const float bi = rows.item_bias[k];
    const float bj = rows.item_bias[m + k];
    const float x = bi - bj + dot_ascending(pk, qi, dim) - dot_ascending(pk, qj, dim);
    // -log sigmoid(x) = log1p(exp(-x)), computed stably.
    loss_sum += x > 0 ? std::log1p(std::exp(-static_cast<double>(x)))
                      : -static_cast<double>(x) + std::log1p(std::exp(static_cast<double>(x)));
    const float s = 1.0f / (1.0f + std::exp(x));  // sigmoid(-x) = -dLoss/dx
    float* gp = out.p.data() + k * du;
    float* gi = out.q.data() + k * du;
    float* gj = out.q.data() + (m + k) * du;
    for (std::size_t j = 0; j < du; ++j) {
      gp[j] = c * (-s * (qi[j] - qj[j]) + l2 * pk[j]);
      gi[j] = c * (-s * pk[j] + l2 * qi[j]);
      gj[j] = c * (s * pk[j] + l2 * qj[j]);
    }
    out.item_bias[k] = c * (-s + l2b * bi);
    out.item_bias[m + k] = c * (s + l2b * bj);
  }
}

}  // namespace embedkit::models
