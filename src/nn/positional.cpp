#include "embedkit/nn/positional.hpp"

#include <cmath>
#include <cstring>

#include "embedkit/core/error.hpp"
#include "layer_checks.hpp"

namespace embedkit::nn {

namespace {

void check_sizes(std::int64_t max_len, std::int64_t dim, const std::string& who) {
  if (max_len < 0 || dim < 0) throw ValueError(who + ": max_len and dim must be >= 0");
}

void check_length(std::int64_t length, std::int64_t max_len, const std::string& who) {
  if (length < 0 || length > max_len) {
    throw ValueError(who + ": sequence length " + std::to_string(length) +
                     " is outside [0, max_len = " + std::to_string(max_len) + "]");
  }
}

// Checks x [..., L, dim] against a table of max_len rows; returns L.
std::int64_t check_sequence(const Tensor& x, std::int64_t max_len, std::int64_t dim,
                            const std::string& who) {
  detail::check_float32(x, who, "input");
  if (x.dim() < 2 || x.size(-1) != dim) {
    throw ValueError(who + ": input must be [..., L, " + std::to_string(dim) + "], got " +
                     shape_string(x.shape()));
  }
  const std::int64_t length = x.size(-2);
  check_length(length, max_len, who);
  return length;
}

// x + rows, rows [L, D] broadcast over x's leading dimensions.
Tensor add_rows(const Tensor& x, const float* rows, std::int64_t length, std::int64_t dim) {
  Tensor out = Tensor::empty(x.shape());
  const float* in = x.data<float>();
  float* o = out.data<float>();
  const std::int64_t block = length * dim;
  for (std::int64_t i = 0; i < x.numel(); ++i) o[i] = in[i] + rows[i % block];
  return out;
}

Tensor first_rows(const Tensor& table, std::int64_t length) {
  Tensor out = Tensor::empty({length, table.size(1)});
  if (out.numel() > 0) std::memcpy(out.raw_data(), table.raw_data(), out.nbytes());
  return out;
}

const std::string kLearned = "LearnedPositionalEmbedding";
const std::string kSinusoidal = "SinusoidalPositionalEmbedding";

EmbeddingOptions learned_options(std::int64_t max_len, std::int64_t dim) {
  check_sizes(max_len, dim, kLearned);
  return EmbeddingOptions(max_len, dim);
}

}  // namespace

LearnedPositionalEmbedding::LearnedPositionalEmbedding(std::int64_t max_len, std::int64_t dim)
    : embedding_(learned_options(max_len, dim)) {}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(std::int64_t max_len, std::int64_t dim,
                                                       Generator& gen)
    : embedding_(learned_options(max_len, dim), gen) {}

Tensor LearnedPositionalEmbedding::forward(std::int64_t length) const {
  check_length(length, max_len(), kLearned);
  return first_rows(weight(), length);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& input) {
  const std::int64_t length = check_sequence(input, max_len(), dim(), kLearned);
  // Position ids shaped like the input's leading dimensions: 0..L-1 in every sequence.
  Shape ids_shape(input.shape().begin(), input.shape().end() - 1);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(shape_numel(ids_shape)));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<std::int64_t>(i) % length;
  }
  Tensor position_ids = Tensor::from_vector(ids, ids_shape);
  // The lookup through the Embedding itself: one source of truth for the rows and their gradient.
  const Tensor rows = embedding_.forward(Tensor::from_vector(
      std::vector<std::int64_t>(ids.begin(), ids.begin() + length), Shape{length}));
  Tensor out = add_rows(input, rows.data<float>(), length, dim());
  position_ids_ = position_ids;
  return out;
}

Tensor LearnedPositionalEmbedding::backward(const Tensor& grad_output) {
  detail::check_forward_done(position_ids_, kLearned);
  Shape expected = position_ids_.shape();
  expected.push_back(dim());
  detail::check_float32(grad_output, kLearned, "grad_output");
  detail::check_shape(grad_output, expected, kLearned, "grad_output");
  accumulate_grad(weight_grad_, embedding_.backward(position_ids_, grad_output).to_dense());
  return grad_output;
}

NamedTensors LearnedPositionalEmbedding::named_parameters() const {
  return {{"weight", weight()}};
}

NamedTensors LearnedPositionalEmbedding::gradients() const {
  return {{"weight", weight_grad_}};
}

void LearnedPositionalEmbedding::zero_grad(bool set_to_none) {
  clear_grad(weight_grad_, set_to_none);
}

std::string LearnedPositionalEmbedding::repr() const {
  return kLearned + "(" + std::to_string(max_len()) + ", " + std::to_string(dim()) + ")";
}

SinusoidalPositionalEmbedding::SinusoidalPositionalEmbedding(std::int64_t max_len, std::int64_t dim)
    : table_(make_table(max_len, dim)) {}

Tensor SinusoidalPositionalEmbedding::make_table(std::int64_t max_len, std::int64_t dim) {
  check_sizes(max_len, dim, kSinusoidal);
  Tensor table = Tensor::empty({max_len, dim});
  float* t = table.data<float>();
  for (std::int64_t pos = 0; pos < max_len; ++pos) {
    for (std::int64_t j = 0; j < dim; ++j) {
      const std::int64_t two_i = j - j % 2;
      const double angle = static_cast<double>(pos) /
                           std::pow(10000.0, static_cast<double>(two_i) / static_cast<double>(dim));
      t[pos * dim + j] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
  return table;
}

Tensor SinusoidalPositionalEmbedding::forward(std::int64_t length) const {
  check_length(length, max_len(), kSinusoidal);
  return first_rows(table_, length);
}

Tensor SinusoidalPositionalEmbedding::forward(const Tensor& input) {
  const std::int64_t length = check_sequence(input, max_len(), dim(), kSinusoidal);
  shape_ = input.shape();
  forward_done_ = true;
  return add_rows(input, table_.data<float>(), length, dim());
}

Tensor SinusoidalPositionalEmbedding::backward(const Tensor& grad_output) {
  if (!forward_done_) throw ValueError(kSinusoidal + ": backward() called before forward()");
  detail::check_float32(grad_output, kSinusoidal, "grad_output");
  detail::check_shape(grad_output, shape_, kSinusoidal, "grad_output");
  return grad_output;
}

std::string SinusoidalPositionalEmbedding::repr() const {
  return kSinusoidal + "(" + std::to_string(max_len()) + ", " + std::to_string(dim()) + ")";
}

}  // namespace embedkit::nn
