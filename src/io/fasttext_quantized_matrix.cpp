// fastText's product-quantized matrix (fasttext_model.hpp): what a .ftz holds, used as codes.
#include <cmath>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"

namespace embedkit::io {

FastTextProductQuantizer FastTextProductQuantizer::with_shape(std::int64_t dim, std::int64_t dsub) {
  if (dim < 1 || dsub < 1 || dsub > dim || dim > (std::int64_t{1} << 30)) {
    throw ValueError("product quantizer: dsub must be in [1, dim] (dim " + std::to_string(dim) +
                     "), got " + std::to_string(dsub));
  }
  FastTextProductQuantizer q;
  q.dim = static_cast<std::int32_t>(dim);
  q.dsub = static_cast<std::int32_t>(dsub);
  q.nsubq = static_cast<std::int32_t>((dim + dsub - 1) / dsub);
  q.lastdsub = static_cast<std::int32_t>(dim % dsub == 0 ? dsub : dim % dsub);
  q.centroids.assign(static_cast<std::size_t>(dim) * kFastTextCentroids, 0.0f);
  return q;
}

void FastTextQuantizedMatrix::add_row(std::int64_t row, float* x, float scale) const {
  const float alpha = scale * norm(row);
  const std::uint8_t* code = codes.data() + row * pq.nsubq;
  for (std::int32_t m = 0; m < pq.nsubq; ++m) {
    const float* c = pq.centroid(m, code[m]);
    float* out = x + static_cast<std::ptrdiff_t>(m) * pq.dsub;
    for (std::int32_t j = 0; j < pq.width(m); ++j) out[j] += alpha * c[j];
  }
}

float FastTextQuantizedMatrix::dot_row(std::int64_t row, const float* x) const {
  const std::uint8_t* code = codes.data() + row * pq.nsubq;
  float sum = 0;
  for (std::int32_t m = 0; m < pq.nsubq; ++m) {
    const float* c = pq.centroid(m, code[m]);
    const float* in = x + static_cast<std::ptrdiff_t>(m) * pq.dsub;
    for (std::int32_t j = 0; j < pq.width(m); ++j) sum += in[j] * c[j];
  }
  return sum * norm(row);
}

void FastTextQuantizedMatrix::decode_row(std::int64_t row, float* out) const {
  const float n = norm(row);
  const std::uint8_t* code = codes.data() + row * pq.nsubq;
  for (std::int32_t m = 0; m < pq.nsubq; ++m) {
    const float* c = pq.centroid(m, code[m]);
    for (std::int32_t j = 0; j < pq.width(m); ++j) out[m * pq.dsub + j] = n * c[j];
  }
}

Tensor FastTextQuantizedMatrix::decode() const {
  Tensor out = Tensor::empty({rows, cols});
  for (std::int64_t r = 0; r < rows; ++r) decode_row(r, out.data<float>() + r * cols);
  return out;
}

void FastTextQuantizedMatrix::check(const std::string& name) const {
  auto fail = [&](const std::string& what) {
    throw ValueError("fastText model: the quantized " + name + " matrix " + what);
  };
  auto check_quantizer = [&](const FastTextProductQuantizer& q, std::int64_t dim,
                             const char* which) {
    const bool consistent =
        q.dim == dim && q.dsub >= 1 && q.dsub <= q.dim &&
        q.nsubq == (q.dim + q.dsub - 1) / q.dsub &&
        q.lastdsub == (q.dim % q.dsub == 0 ? q.dsub : q.dim % q.dsub) &&
        q.centroids.size() == static_cast<std::size_t>(dim) * kFastTextCentroids;
    if (!consistent) fail(std::string("has an inconsistent ") + which);
    for (const float c : q.centroids) {
      if (!std::isfinite(c)) fail(std::string("has a non-finite centroid in its ") + which);
    }
  };
  if (rows < 0 || cols < 1) fail("is " + std::to_string(rows) + " x " + std::to_string(cols));
  check_quantizer(pq, cols, "product quantizer");
  if (static_cast<std::int64_t>(codes.size()) != rows * pq.nsubq) {
    fail("has " + std::to_string(codes.size()) +
         " codes, expected rows x nsubq = " + std::to_string(rows * pq.nsubq));
  }
  if (qnorm) {
    check_quantizer(npq, 1, "norm quantizer");
    if (static_cast<std::int64_t>(norm_codes.size()) != rows) fail("lacks a norm code per row");
  }
}

std::int64_t FastTextQuantizedMatrix::stored_bytes() const {
  // qnorm flag, rows, cols, code count, codes, quantizer header and centroids (and the norms').
  const auto quantizer = [](const FastTextProductQuantizer& q) {
    return 16 + static_cast<std::int64_t>(q.centroids.size()) * 4;
  };
  return 1 + 8 + 8 + 4 + static_cast<std::int64_t>(codes.size()) + quantizer(pq) +
         (qnorm ? static_cast<std::int64_t>(norm_codes.size()) + quantizer(npq) : 0);
}

void FastTextModelFile::input_row(std::int64_t row, float* out) const {
  if (quantized_input) {
    input_codes.decode_row(row, out);
    return;
  }
  const std::int64_t dim = input.size(1);
  const float* r = input.data<float>() + row * dim;
  std::copy(r, r + dim, out);
}

}  // namespace embedkit::io
