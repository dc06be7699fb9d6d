// fastText's quantize (fasttext_quantization.hpp): pruning to the rows of largest norm, and
// product quantization of the matrices by k-means (kernels/cpu/kmeans_cpu.hpp).
#include "embedkit/models/fasttext_quantization.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "kernels/cpu/kmeans_cpu.hpp"

namespace embedkit::models {

namespace {

constexpr std::string_view kEndOfLine = "</s>";

// Sub-quantizer m's own seed (the norm quantizer's is m = nsubq): independent of the threads.
std::uint64_t sub_seed(std::uint64_t seed, std::int64_t m) {
  return seed ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(m + 1));
}

// Trains q's centroids on the columns of x [n, stride] (sub-quantizer m from column m * dsub) and
// writes each row's codes, codes[i * nsubq + m].
void train_and_encode(const float* x, std::int64_t n, std::int64_t stride,
                      io::FastTextProductQuantizer& q, std::uint8_t* codes,
                      const FastTextQuantizeOptions& o, std::uint64_t seed) {
  const std::int64_t max_points = o.points_per_centroid * io::kFastTextCentroids;
  // The sub-quantizers are independent: one each on the pool's threads.
  parallel_for(q.nsubq, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t m = begin; m < end; ++m) {
      const auto sm = static_cast<std::int32_t>(m);
      kernels::cpu::kmeans(x + m * q.dsub, n, q.width(sm), stride, io::kFastTextCentroids,
                           o.iterations, max_points, sub_seed(seed, m), q.centroid(sm, 0));
    }
  });
  for (std::int32_t m = 0; m < q.nsubq; ++m) {
    kernels::cpu::nearest_centroids(x + m * q.dsub, n, q.width(m), stride, q.centroid(m, 0),
                                    io::kFastTextCentroids, codes + m, q.nsubq);
  }
}

void check_finite_matrix(const Tensor& m) {
  const float* v = m.data<float>();
  for (std::int64_t i = 0; i < m.numel(); ++i) {
    if (!std::isfinite(v[i])) {
      throw ValueError("quantize: the matrix holds a non-finite value at row " +
                       std::to_string(i / m.size(1)));
    }
  }
}

}  // namespace

io::FastTextQuantizedMatrix product_quantize(const Tensor& matrix, std::int64_t dsub, bool qnorm,
                                             const FastTextQuantizeOptions& o) {
  if (matrix.dtype() != DType::Float32 || matrix.dim() != 2 || matrix.size(0) < 1 ||
      matrix.size(1) < 1) {
    throw ValueError("quantize: expected a non-empty float32 matrix, got " +
                     shape_string(matrix.shape()) + " " + std::string(dtype_name(matrix.dtype())));
  }
  if (dsub < 1 || dsub > matrix.size(1)) {
    throw ValueError("quantize: dsub must be in [1, dim] = [1, " + std::to_string(matrix.size(1)) +
                     "], got " + std::to_string(dsub));
  }
  if (o.iterations < 0 || o.points_per_centroid < 1) {
    throw ValueError("quantize: iterations must be >= 0 and points_per_centroid >= 1");
  }
  check_finite_matrix(matrix);
  const std::int64_t rows = matrix.size(0);
  const std::int64_t cols = matrix.size(1);
  io::FastTextQuantizedMatrix q;
  q.rows = rows;
  q.cols = cols;
  q.qnorm = qnorm;
  q.pq = io::FastTextProductQuantizer::with_shape(cols, dsub);
  q.codes.resize(static_cast<std::size_t>(rows * q.pq.nsubq));
  std::vector<float> normalized;
  const float* x = matrix.data<float>();
  if (qnorm) {
    // fastText's l2NormRow (summed in double) and divideRow (rows of norm 0 kept as they are).
    std::vector<float> norms(static_cast<std::size_t>(rows));
    normalized.assign(x, x + rows * cols);
    for (std::int64_t r = 0; r < rows; ++r) {
      float* row = normalized.data() + r * cols;
      double sum = 0;
      for (std::int64_t j = 0; j < cols; ++j) sum += static_cast<double>(row[j]) * row[j];
      const auto norm = static_cast<float>(std::sqrt(sum));
      norms[static_cast<std::size_t>(r)] = norm;
      if (norm != 0) {
        for (std::int64_t j = 0; j < cols; ++j) row[j] /= norm;
      }
    }
    q.npq = io::FastTextProductQuantizer::with_shape(1, 1);
    q.norm_codes.resize(static_cast<std::size_t>(rows));
    train_and_encode(norms.data(), rows, 1, q.npq, q.norm_codes.data(), o,
                     o.seed + 0x6e6f726d);  // "norm"
    x = normalized.data();
  }
  train_and_encode(x, rows, cols, q.pq, q.codes.data(), o, o.seed);
  return q;
}

std::vector<std::int64_t> fasttext_rows_by_norm(const io::FastTextModelFile& model,
                                                std::int64_t count) {
  const io::FastTextDictionary& d = model.dictionary;
  const std::int64_t rows = model.input_rows();
  if (count < 1 || count > rows) {
    throw ValueError("quantize: cutoff must be in [1, " + std::to_string(rows) +
                     "] (the input rows: words and n-gram buckets), got " + std::to_string(count));
  }
  const std::int64_t cutoff = count;
  const Tensor& input = model.input;
  const std::int64_t dim = input.size(1);
  std::vector<float> norms(static_cast<std::size_t>(rows));
  parallel_for(rows, 16384, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      const float* row = input.data<float>() + r * dim;
      double sum = 0;
      for (std::int64_t j = 0; j < dim; ++j) sum += static_cast<double>(row[j]) * row[j];
      norms[static_cast<std::size_t>(r)] = static_cast<float>(std::sqrt(sum));
    }
  });
  std::int64_t eos = -1;
  for (std::size_t i = 0; i < d.words.size(); ++i) {
    if (d.words[i].text == kEndOfLine) eos = static_cast<std::int64_t>(i);
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  auto before = [&](std::int64_t a, std::int64_t b) {
    if (a == eos || b == eos) return a == eos && b != eos;
    const float na = norms[static_cast<std::size_t>(a)], nb = norms[static_cast<std::size_t>(b)];
    return na > nb || (na == nb && a < b);
  };
  if (cutoff == rows) {
    std::sort(order.begin(), order.end(), before);  // a strict total order: the same result
  } else {
    std::partial_sort(order.begin(), order.begin() + cutoff, order.end(), before);
    order.resize(static_cast<std::size_t>(cutoff));
  }
  return order;
}

FastTextPruning select_fasttext_rows(const io::FastTextModelFile& model, std::int64_t cutoff) {
  const io::FastTextDictionary& d = model.dictionary;
  const std::vector<std::int64_t> order = fasttext_rows_by_norm(model, cutoff);
  const auto nwords = static_cast<std::int64_t>(d.words.size());
  FastTextPruning p;
  std::vector<std::int64_t> buckets;
  for (const std::int64_t r : order) (r < nwords ? p.rows : buckets).push_back(r);
  std::sort(p.rows.begin(), p.rows.end());
  p.dictionary.labels = d.labels;
  p.dictionary.tokens = d.tokens;
  for (const std::int64_t r : p.rows)
    p.dictionary.words.push_back(d.words[static_cast<std::size_t>(r)]);
  p.dictionary.prune_index_size = static_cast<std::int64_t>(buckets.size());
  for (std::size_t j = 0; j < buckets.size(); ++j) {
    p.dictionary.prune_index.emplace_back(static_cast<std::int32_t>(buckets[j] - nwords),
                                          static_cast<std::int32_t>(j));
    p.rows.push_back(buckets[j]);
  }
  return p;
}

io::FastTextModelFile quantize_fasttext_model(const io::FastTextModelFile& model,
                                              const FastTextQuantizeOptions& o,
                                              const FastTextRetraining* retrain) {
  if (model.quantized_input || model.quantized_output) {
    throw ValueError("quantize: the model is already quantized");
  }
  if (model.dictionary.prune_index_size >= 0) {
    throw ValueError("quantize: the model is already pruned");
  }
  if (o.cutoff < 0) throw ValueError("quantize: cutoff must be >= 0 (0: keep every row)");
  if (retrain != nullptr && o.cutoff == 0) {
    throw ValueError(
        "quantize: retraining needs a cutoff (it trains the rows the cutoff keeps, as fastText's "
        "-retrain does)");
  }
  const bool supervised = model.args.model == io::FastTextModelType::Supervised;
  if (o.cutoff > 0 && !supervised) {
    throw ValueError(
        "quantize: cutoff needs a supervised model (the output rows of word vectors are their "
        "words, which pruning would drop)");
  }
  if (o.dsub < 1 || o.dsub > model.args.dim) {
    throw ValueError("quantize: dsub must be in [1, dim] = [1, " + std::to_string(model.args.dim) +
                     "], got " + std::to_string(o.dsub));
  }
  io::check_fasttext_model(model);
  io::FastTextModelFile out;
  out.version = model.version;
  out.args = model.args;
  out.dictionary = model.dictionary;
  Tensor input = model.input;
  Tensor output = model.output;
  if (o.cutoff > 0) {
    FastTextPruning p = select_fasttext_rows(model, o.cutoff);
    out.dictionary = std::move(p.dictionary);
    const std::int64_t dim = model.input.size(1);
    input = Tensor::empty({static_cast<std::int64_t>(p.rows.size()), dim});
    for (std::size_t i = 0; i < p.rows.size(); ++i) {
      const float* from = model.input.data<float>() + p.rows[i] * dim;
      std::copy(from, from + dim, input.data<float>() + static_cast<std::int64_t>(i) * dim);
    }
    if (retrain != nullptr) {
      output = model.output.clone();
      retrain_pruned_rows(model, p, input, output, *retrain);
    }
  }
  out.quantized_input = true;
  out.input_codes = product_quantize(input, o.dsub, o.qnorm, o);
  if (o.qout) {
    out.quantized_output = true;
    out.output_codes =
        product_quantize(output, std::min<std::int64_t>(2, model.args.dim), o.qnorm, o);
  } else {
    out.output = output;
  }
  io::check_fasttext_model(out);
  return out;
}

}  // namespace embedkit::models
