// The .ftz's size for every cutoff (fasttext_model_size.hpp).
#include "embedkit/models/fasttext_model_size.hpp"

#include <algorithm>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/models/fasttext_quantization.hpp"

namespace embedkit::models {

namespace {

// A quantized matrix of `rows` rows whose codes and centroids are zeros: the bytes a real one
// takes (the file's layout does not depend on the values).
io::FastTextQuantizedMatrix skeleton(std::int64_t rows, std::int64_t cols, std::int64_t dsub,
                                     bool qnorm) {
  io::FastTextQuantizedMatrix q;
  q.rows = rows;
  q.cols = cols;
  q.qnorm = qnorm;
  q.pq = io::FastTextProductQuantizer::with_shape(cols, dsub);
  q.codes.assign(static_cast<std::size_t>(rows * q.pq.nsubq), 0);
  if (qnorm) {
    q.npq = io::FastTextProductQuantizer::with_shape(1, 1);
    q.norm_codes.assign(static_cast<std::size_t>(rows), 0);
  }
  return q;
}

}  // namespace

FastTextSizeModel::FastTextSizeModel(const io::FastTextModelFile& model, std::int64_t dsub,
                                     bool qnorm, bool qout) {
  if (model.quantized_input || model.quantized_output) {
    throw ValueError("model size: the model is already quantized");
  }
  if (model.dictionary.prune_index_size >= 0) {
    throw ValueError("model size: the model is already pruned");
  }
  const std::int64_t dim = model.args.dim;
  if (dsub < 1 || dsub > dim) {
    throw ValueError("model size: dsub must be in [1, dim] = [1, " + std::to_string(dim) +
                     "], got " + std::to_string(dsub));
  }
  const std::int64_t rows = model.input_rows();
  const std::vector<std::int64_t> order = fasttext_rows_by_norm(model, rows);
  const auto nwords = static_cast<std::int64_t>(model.dictionary.words.size());
  // The file with "</s>" alone (cutoff 1, through the writer itself), less that row.
  io::FastTextModelFile one;
  one.version = model.version;
  one.args = model.args;
  one.dictionary = select_fasttext_rows(model, 1).dictionary;
  one.quantized_input = true;
  one.input_codes = skeleton(1, dim, dsub, qnorm);
  if (qout) {
    one.quantized_output = true;
    one.output_codes = skeleton(model.output.size(0), dim, std::min<std::int64_t>(2, dim), qnorm);
  } else {
    one.output = model.output;
  }
  const std::int64_t codes = one.input_codes.pq.nsubq + (qnorm ? 1 : 0);
  auto row_bytes = [&](std::int64_t row) -> std::int64_t {
    if (row < nwords) {  // the entry: text, a 0 byte, int64 count, int8 type
      return codes +
             static_cast<std::int64_t>(
                 model.dictionary.words[static_cast<std::size_t>(row)].text.size()) +
             10;
    }
    return codes + 8;  // the prune-index pair (int32 bucket, int32 row)
  };
  fixed_ = static_cast<std::int64_t>(io::serialize_fasttext_model(one).size()) -
           row_bytes(order.front());
  prefix_.assign(static_cast<std::size_t>(rows) + 1, 0);
  for (std::int64_t k = 0; k < rows; ++k) {
    prefix_[static_cast<std::size_t>(k) + 1] =
        prefix_[static_cast<std::size_t>(k)] + row_bytes(order[static_cast<std::size_t>(k)]);
  }
  bucket_pairs_ = 8 * (rows - nwords);
}

std::int64_t FastTextSizeModel::bytes(std::int64_t cutoff) const {
  if (cutoff < 0 || cutoff > rows()) {
    throw ValueError("model size: cutoff must be in [0, " + std::to_string(rows()) + "], got " +
                     std::to_string(cutoff));
  }
  if (cutoff == 0) return fixed_ + prefix_.back() - bucket_pairs_;
  return fixed_ + prefix_[static_cast<std::size_t>(cutoff)];
}

std::int64_t FastTextSizeModel::largest_cutoff(std::int64_t budget) const {
  // prefix_ grows with k: the last k whose bytes fit.
  const auto fits = std::upper_bound(prefix_.begin() + 1, prefix_.end(), budget - fixed_);
  return static_cast<std::int64_t>(fits - (prefix_.begin() + 1));
}

}  // namespace embedkit::models
