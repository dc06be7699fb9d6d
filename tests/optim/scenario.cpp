#include "optim/scenario.hpp"

#include "embedkit/nn/embedding.hpp"

namespace optim_test {

using embedkit::Generator;
using embedkit::Tensor;

namespace {

Tensor normal(const embedkit::Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  embedkit::fill_normal(t, gen);
  return t;
}

std::int64_t below(Generator& gen, std::int64_t n) {
  return static_cast<std::int64_t>(gen.next_u64() % static_cast<std::uint64_t>(n));
}

}  // namespace

Scenario::Scenario(const ScenarioConfig& config) : config_(config) {
  Generator gen(config.seed);
  table_ = normal({config.rows, config.dim}, gen);
  float* t = table_.data<float>();
  for (std::int64_t j = 0; j < config.dim; ++j) t[config.padding_idx * config.dim + j] = 0.0f;
  second_ = normal({kSecondRows, kSecondDim}, gen);
}

std::vector<embedkit::optim::Parameter> Scenario::params() const {
  return {{"embedding.weight", table_.clone(), config_.padding_idx},
          {"linear.weight", second_.clone(), std::nullopt}};
}

std::vector<embedkit::nn::WeightGrad> Scenario::grads(int step) const {
  Generator gen(config_.seed * 1000003u + static_cast<std::uint64_t>(step));
  const ScenarioConfig& c = config_;
  // A small hot set makes repeats likely, as real id streams have; some ids are the padding row.
  std::vector<std::int64_t> ids(static_cast<std::size_t>(c.batch));
  const std::int64_t used = c.rows - c.untouched_rows;
  for (auto& id : ids) {
    const double u = gen.uniform();
    id = all_padding(step) ? c.padding_idx
         : u < 0.4         ? below(gen, 4)
         : u < 0.5         ? c.padding_idx
                           : below(gen, used);
  }
  const Tensor grad_out = normal({c.batch, c.dim}, gen);
  auto options = embedkit::nn::EmbeddingFuncOptions().padding_idx(c.padding_idx).sparse(c.sparse);
  std::vector<embedkit::nn::WeightGrad> out;
  out.push_back(embedkit::nn::functional::embedding_backward(Tensor::from_vector(ids), grad_out,
                                                             c.rows, options));
  if (second_skipped(step)) {
    out.emplace_back();
  } else if (c.second_sparse) {
    const std::vector<std::int64_t> rows = {below(gen, kSecondRows), 0, below(gen, kSecondRows)};
    out.push_back(embedkit::nn::WeightGrad::from_sparse(embedkit::RowSparseTensor(
        Tensor::from_vector(rows), normal({3, kSecondDim}, gen), kSecondRows)));
  } else {
    out.push_back(embedkit::nn::WeightGrad::from_dense(normal({kSecondRows, kSecondDim}, gen)));
  }
  return out;
}

}  // namespace optim_test
