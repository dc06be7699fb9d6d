// fastText's `quantize`, on a fastText model file (io/fasttext_model.hpp; FastTextModel::
// from_classifier makes one of embedkit's classifier): the result is what fastText writes as a
// .ftz, and FastTextModel predicts straight from its codes.
//
//   cutoff   supervised models only: keep the `cutoff` input rows of largest L2 norm ("</s>"
//            always first, ties to the lower row), fastText's selectEmbeddings; the words kept
//            stay in dictionary order, the n-gram buckets kept get the rows after them in order
//            of norm and the prune index maps bucket -> row (fastText's Dictionary::prune).
//   qnorm    each row divided by its norm, the norms quantized by a 1-dimensional quantizer
//            of 256 centroids (one code a row), the rows' directions by the product quantizer.
//   dsub     the product quantizer's sub-vector width: nsubq = ceil(dim / dsub) sub-quantizers
//            of 256 centroids each, one code byte a row and sub-quantizer.
//   qout     the output matrix too (dsub 2, as fastText), with qnorm when qnorm is set.
//
// Each sub-quantizer is trained by k-means (kernels: ref and fast twin, bitwise the same;
// kmeans_steps.hpp for the exact rules): 25 iterations on at most 256 points a centroid, drawn
// from a generator seeded by `seed` and the sub-quantizer's index, so the result depends only on
// the model, the options and the seed, not on the thread count. Unlike fastText, a matrix of
// fewer than 256 rows is quantized too (fastText refuses it: a 2-label output cannot be
// quantized there), and a sub-vector column of at most 256 distinct values is encoded exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_retraining.hpp"

namespace embedkit::models {

struct FastTextQuantizeOptions {
  std::int64_t dsub = 2;
  bool qnorm = false;
  bool qout = false;
  std::int64_t cutoff = 0;  // 0: keep every row
  std::uint64_t seed = 1234;
  std::int64_t iterations = 25;
  std::int64_t points_per_centroid = 256;
};

// The product quantization of a float32 matrix [rows >= 1, cols] (ValueError for dsub outside
// [1, cols], a non-finite value, an empty matrix).
io::FastTextQuantizedMatrix product_quantize(const Tensor& matrix, std::int64_t dsub, bool qnorm,
                                             const FastTextQuantizeOptions& options);

// The input rows `cutoff` keeps, in the pruned model's order (words, then buckets), with the
// pruned dictionary; exposed for tests.
struct FastTextPruning {
  std::vector<std::int64_t> rows;  // rows of the original input matrix
  io::FastTextDictionary dictionary;
};
FastTextPruning select_fasttext_rows(const io::FastTextModelFile& model, std::int64_t cutoff);
// The `count` input rows `cutoff` keeps, in the order of keeping ("</s>" first, then by norm,
// largest first, ties to the lower row): the first k of them are what cutoff k keeps.
std::vector<std::int64_t> fasttext_rows_by_norm(const io::FastTextModelFile& model,
                                                std::int64_t count);

// The quantized model. ValueError, naming the problem, for: a model that is already quantized or
// pruned, cutoff with an unsupervised model (its output rows are its words), cutoff below 0 or
// above the input rows, dsub outside [1, dim], a retraining without a cutoff.
//
// retrain (fastText's -retrain, fasttext_retraining.hpp): when given, the rows the cutoff keeps
// and the output matrix are trained again on retrain->lines before they are quantized.
io::FastTextModelFile quantize_fasttext_model(const io::FastTextModelFile& model,
                                              const FastTextQuantizeOptions& options,
                                              const FastTextRetraining* retrain = nullptr);

}  // namespace embedkit::models
