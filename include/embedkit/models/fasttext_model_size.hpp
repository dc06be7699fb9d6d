// The size of the .ftz that quantize_fasttext_model (fasttext_quantization.hpp) writes, for
// every cutoff at once, without quantizing: what fastText's -autotune-modelsize needs to choose
// the largest cutoff that fits a byte budget. fastText estimates it (Autotune::
// getCutoffForFileSize, a formula that leaves the words' text out); this is exact: the bytes of
// the file without its rows (the header, the labels, the quantizers, the output matrix) are
// those serialize_fasttext_model writes, and each row kept adds its codes (and norm code), plus
// its dictionary entry for a word, or its prune-index pair for a bucket.
#pragma once

#include <cstdint>
#include <vector>

#include "embedkit/io/fasttext_model.hpp"

namespace embedkit::models {

class FastTextSizeModel {
 public:
  // For `model` (dense, supervised) quantized with dsub, qnorm and qout (ValueError for what
  // quantize_fasttext_model refuses: dsub outside [1, dim], a quantized or pruned model).
  FastTextSizeModel(const io::FastTextModelFile& model, std::int64_t dsub, bool qnorm, bool qout);

  std::int64_t rows() const { return static_cast<std::int64_t>(prefix_.size()) - 1; }
  // Bytes of the file with `cutoff` rows kept (1 <= cutoff <= rows), and with none dropped
  // (cutoff 0: no prune index at all, what fastText writes when -cutoff is not below the rows).
  std::int64_t bytes(std::int64_t cutoff) const;
  // The largest cutoff whose file takes at most `budget` bytes; 0 when not even "</s>" alone fits.
  std::int64_t largest_cutoff(std::int64_t budget) const;

 private:
  std::int64_t fixed_ = 0;            // the file without any row
  std::int64_t bucket_pairs_ = 0;     // prune-index bytes of all the buckets
  std::vector<std::int64_t> prefix_;  // prefix_[k]: what the first k rows (by keeping order) add
};

}  // namespace embedkit::models
