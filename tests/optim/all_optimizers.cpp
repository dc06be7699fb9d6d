#include "optim/all_optimizers.hpp"

#include <cstring>

#include "embedkit/core/generator.hpp"
#include "embedkit/optim/adagrad.hpp"
#include "embedkit/optim/adam.hpp"
#include "embedkit/optim/adamw.hpp"
#include "embedkit/optim/lazy_adam.hpp"
#include "embedkit/optim/rowwise_adagrad.hpp"
#include "embedkit/optim/sgd.hpp"
#include "embedkit/optim/sparse_adam.hpp"

namespace optim_test {

namespace eo = embedkit::optim;
using embedkit::Tensor;

namespace {

template <class Opt, class Options>
OptimizerCase make_case(std::string label, Options options, bool dense, bool sparse) {
  return {std::move(label),
          [options](std::vector<eo::Parameter> params) -> std::unique_ptr<eo::Optimizer> {
            return std::make_unique<Opt>(std::move(params), options);
          },
          dense, sparse};
}

}  // namespace

std::vector<OptimizerCase> all_optimizers() {
  return {
      make_case<eo::SGD>("SGD momentum, weight decay",
                         eo::SGDOptions(0.1).momentum(0.9).weight_decay(0.1), true, false),
      make_case<eo::SGD>("SGD nesterov", eo::SGDOptions(0.1).momentum(0.9).nesterov(true), true,
                         true),
      make_case<eo::SGD>("SGD plain", eo::SGDOptions(0.1), true, true),
      make_case<eo::Adagrad>("Adagrad weight decay",
                             eo::AdagradOptions(0.1).weight_decay(0.1).lr_decay(0.01), true, false),
      make_case<eo::Adagrad>("Adagrad", eo::AdagradOptions(0.1).initial_accumulator_value(0.5),
                             true, true),
      make_case<eo::Adam>("Adam amsgrad, weight decay",
                          eo::AdamOptions(0.1).amsgrad(true).weight_decay(0.1), true, false),
      make_case<eo::AdamW>("AdamW amsgrad, weight decay",
                           eo::AdamWOptions(0.1).amsgrad(true).weight_decay(0.1), true, false),
      make_case<eo::SparseAdam>("SparseAdam", eo::SparseAdamOptions(0.1), false, true),
      make_case<eo::LazyAdam>("LazyAdam", eo::LazyAdamOptions(0.1), true, true),
      make_case<eo::RowWiseAdagrad>("RowWiseAdagrad L2",
                                    eo::RowWiseAdagradOptions(0.1).weight_decay(0.1), true, true),
      make_case<eo::RowWiseAdagrad>(
          "RowWiseAdagrad decoupled",
          eo::RowWiseAdagradOptions(0.1).weight_decay(0.1).weight_decay_mode(
              eo::WeightDecayMode::Decoupled),
          true, true),
  };
}

Tensor random_table(std::int64_t rows, std::int64_t dim, std::uint64_t seed) {
  embedkit::Generator gen(seed);
  Tensor t = Tensor::empty({rows, dim});
  embedkit::fill_normal(t, gen);
  return t;
}

embedkit::nn::WeightGrad sparse_grad(std::int64_t rows, std::int64_t dim,
                                     const std::vector<std::int64_t>& ids, std::uint64_t seed) {
  const auto n = static_cast<std::int64_t>(ids.size());
  return embedkit::nn::WeightGrad::from_sparse(
      embedkit::RowSparseTensor(Tensor::from_vector(ids), random_table(n, dim, seed), rows));
}

embedkit::nn::WeightGrad dense_grad(std::int64_t rows, std::int64_t dim, std::uint64_t seed) {
  return embedkit::nn::WeightGrad::from_dense(random_table(rows, dim, seed));
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

bool same_state(const embedkit::NamedTensors& a, const embedkit::NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first || !same_bits(a[i].second, b[i].second)) return false;
  }
  return true;
}

std::vector<float> row(const Tensor& t, std::int64_t r) {
  const float* p = t.data<float>() + r * t.size(1);
  return std::vector<float>(p, p + t.size(1));
}

}  // namespace optim_test
