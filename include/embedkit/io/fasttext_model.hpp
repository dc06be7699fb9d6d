// fastText's binary model file (.bin, and the quantized .ftz), as fastText 0.9.2 writes and reads
// it (FastText::saveModel / loadModel). Everything is little-endian, with no padding:
//
//   int32  magic 793712314, int32 version (12; 11 is read too, as fastText reads it)
//   args   int32 dim, ws, epoch, minCount, neg, wordNgrams, loss (1 hs, 2 ns, 3 softmax, 4 ova),
//          model (1 cbow, 2 sg, 3 sup), bucket, minn, maxn, lrUpdateRate; float64 t
//   dict   int32 size, nwords, nlabels; int64 ntokens, pruneidx_size (-1: not pruned);
//          size entries: the text, a 0 byte, int64 count, int8 type (0 word, 1 label),
//          words first; then pruneidx_size pairs of int32 (bucket, row)
//   bool   quantized input (1 byte)
//   input  dense: int64 rows, cols; rows*cols float32 (row-major)
//          quantized: bool qnorm; int64 rows, cols; int32 codesize; codesize uint8 codes; a
//          product quantizer (int32 dim, nsubq, dsub, lastdsub; dim*256 float32 centroids);
//          when qnorm, rows uint8 norm codes and a 1-dimensional quantizer of the norms
//   bool   quantized output
//   output as the input (quantized only when the input is)
//
// Rows of the input matrix: the nwords words, then the bucket rows of hashed character n-grams
// (unsupervised, minn..maxn) and word n-grams (supervised, wordNgrams > 1): nwords + bucket,
// or nwords + pruneidx_size when quantization pruned the buckets. Rows of the output matrix:
// nlabels (supervised) or nwords.
//
// Reading treats the file as hostile: every count is checked against the bytes left before
// anything is allocated for it (a dimension of 2^40 is refused, not allocated), and every
// problem is an IoError that starts with the path and names the section and the entry
// (truncation, wrong magic or version, an unknown loss or model, a dictionary whose entries
// disagree with its counts, a matrix of the wrong shape, a value that is NaN or infinite,
// bytes after the output matrix). A quantized matrix is kept as it is stored, as codes
// (FastTextQuantizedMatrix): a 6 MB .ftz stays a few MB in memory; decode() gives it dense.
// load_fasttext_model streams a regular file (its matrices go straight into their tensors, so a
// model of several GB is not held twice) and reads a pipe whole.
//
// Writing produces what fastText 0.9.2 reads (version 12; dense matrices, or quantized ones with
// pruned buckets: a .ftz) and replaces the file atomically (atomic_file.hpp); ValueError, before
// the file is touched, for a model that the format cannot hold or that fastText would misread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "embedkit/core/tensor.hpp"
#include "embedkit/io/vector_formats.hpp"

namespace embedkit::io {

inline constexpr std::int32_t kFastTextMagic = 793712314;
inline constexpr std::int32_t kFastTextVersion = 12;

enum class FastTextModelType : std::int32_t { Cbow = 1, SkipGram = 2, Supervised = 3 };
enum class FastTextLoss : std::int32_t {
  HierarchicalSoftmax = 1,
  NegativeSampling = 2,
  Softmax = 3,
  OneVsAll = 4
};

// fastText's spellings: "cbow", "sg", "sup"; "hs", "ns", "softmax", "ova".
std::string_view fasttext_model_type_name(FastTextModelType type);
std::string_view fasttext_loss_name(FastTextLoss loss);

// The training arguments a model file keeps (fastText's defaults for skip-gram). The rest of
// fastText's arguments (lr, thread, label prefix ...) are not in the file.
struct FastTextArgs {
  std::int32_t dim = 100;
  std::int32_t ws = 5;
  std::int32_t epoch = 5;
  std::int32_t min_count = 5;
  std::int32_t neg = 5;
  std::int32_t word_ngrams = 1;
  FastTextLoss loss = FastTextLoss::NegativeSampling;
  FastTextModelType model = FastTextModelType::SkipGram;
  std::int32_t bucket = 2000000;
  std::int32_t minn = 3;
  std::int32_t maxn = 6;
  std::int32_t lr_update_rate = 100;
  double t = 1e-4;
};

struct FastTextEntry {
  std::string text;
  std::int64_t count = 0;
};

struct FastTextDictionary {
  std::vector<FastTextEntry> words;   // word id i at position i (input row i)
  std::vector<FastTextEntry> labels;  // label id i (output row i of a supervised model)
  std::int64_t tokens = 0;            // tokens of the training data (ntokens)
  // -1 when the buckets were not pruned; else the number of bucket rows kept, and for each the
  // pair (bucket id, its row after the words) (quantize -cutoff).
  std::int64_t prune_index_size = -1;
  std::vector<std::pair<std::int32_t, std::int32_t>> prune_index;
};

// fastText's product quantizer: the dim values of a row split into nsubq sub-vectors of dsub
// values (the last one lastdsub, the rest of dim), each replaced by the code of one of 256
// centroids of its own sub-quantizer.
inline constexpr std::int64_t kFastTextCentroids = 256;

struct FastTextProductQuantizer {
  std::int32_t dim = 0, nsubq = 0, dsub = 0, lastdsub = 0;
  // dim * 256 float32 in fastText's layout: sub-quantizer m's 256 centroids of width dsub
  // (lastdsub for the last) one after the other, from m * 256 * dsub.
  std::vector<float> centroids;

  // nsubq, dsub and lastdsub for `dim` split by `dsub` (ValueError unless 1 <= dsub <= dim).
  static FastTextProductQuantizer with_shape(std::int64_t dim, std::int64_t dsub);
  std::int32_t width(std::int32_t m) const { return m == nsubq - 1 ? lastdsub : dsub; }
  const float* centroid(std::int32_t m, std::uint8_t code) const {
    return centroids.data() +
           static_cast<std::size_t>(m) * kFastTextCentroids * static_cast<std::size_t>(dsub) +
           static_cast<std::size_t>(code) * static_cast<std::size_t>(width(m));
  }
  float* centroid(std::int32_t m, std::uint8_t code) {
    return const_cast<float*>(std::as_const(*this).centroid(m, code));
  }
};

// fastText's QuantMatrix: rows x cols values as codes (rows x nsubq bytes), with, when qnorm,
// each row's norm quantized apart (a 1-dimensional quantizer of the norms, one code a row) and
// the codes those of the row divided by its norm.
struct FastTextQuantizedMatrix {
  std::int64_t rows = 0, cols = 0;
  bool qnorm = false;
  std::vector<std::uint8_t> codes;
  FastTextProductQuantizer pq;
  std::vector<std::uint8_t> norm_codes;  // rows, when qnorm
  FastTextProductQuantizer npq;          // dim 1, when qnorm

  // The row's decoded norm (1 without qnorm).
  float norm(std::int64_t row) const {
    return qnorm ? *npq.centroid(0, norm_codes[static_cast<std::size_t>(row)]) : 1.0f;
  }
  // x[j] += scale * norm * centroid value, sub-vector by sub-vector (fastText's addRowToVector:
  // with scale 1, the same sums as adding the decoded row).
  void add_row(std::int64_t row, float* x, float scale = 1.0f) const;
  // The row's dot product with x as fastText's dotRow computes it: the centroids' products summed
  // in order, times the norm at the end.
  float dot_row(std::int64_t row, const float* x) const;
  // Row `row` decoded: norm * centroid value (cols float32).
  void decode_row(std::int64_t row, float* out) const;
  // The whole matrix decoded, float32 [rows, cols].
  Tensor decode() const;
  // ValueError naming the first inconsistency (shapes, code counts, codes past 256, non-finite
  // centroids) for a matrix built in memory; the reader checks the same of a file.
  void check(const std::string& name) const;
  // Bytes the matrix takes in a file (and, within a few bytes, in memory).
  std::int64_t stored_bytes() const;
};

struct FastTextModelFile {
  std::int32_t version = kFastTextVersion;
  FastTextArgs args;
  FastTextDictionary dictionary;
  // float32 [input rows (see above), dim]; undefined when quantized_input (input_codes holds it).
  Tensor input;
  // float32 [labels or words, dim]; undefined when quantized_output.
  Tensor output;
  bool quantized_input = false;
  bool quantized_output = false;
  FastTextQuantizedMatrix input_codes;   // when quantized_input
  FastTextQuantizedMatrix output_codes;  // when quantized_output

  std::int64_t input_rows() const {
    return quantized_input ? input_codes.rows : (input.defined() ? input.size(0) : 0);
  }
  // Input row `row`, dense or decoded, into `out` (dim float32).
  void input_row(std::int64_t row, float* out) const;
};

// Whether the bytes start with fastText's magic number.
bool has_fasttext_magic(std::span<const std::uint8_t> bytes);
// Whether the file starts with it (false when it is not a regular file, cannot be opened or
// is shorter: a pipe is never read from to look).
bool file_has_fasttext_magic(const std::filesystem::path& path);

// Reads a model (IoError as described above, naming `source_name`).
FastTextModelFile parse_fasttext_model(std::span<const std::uint8_t> bytes,
                                       const std::string& source_name = "<memory>");
FastTextModelFile load_fasttext_model(const std::filesystem::path& path);

// ValueError naming the first problem: a shape that disagrees with the arguments and the
// dictionary, a word or label that is empty or holds a 0 byte or whitespace, a count below 0,
// a value that is not finite, a size beyond int32, a prune index that does not map its buckets
// one to one onto its rows, pruned buckets without a quantized input (fastText refuses those),
// a quantized output without a quantized input.
void check_fasttext_model(const FastTextModelFile& model);
std::string serialize_fasttext_model(const FastTextModelFile& model);
void save_fasttext_model(const std::filesystem::path& path, const FastTextModelFile& model);

// A skip-gram model with `vectors` as its input matrix and no subwords (minn, maxn and bucket
// 0), so that fastText gives each word its vector and any other word zeros. The output matrix
// is zeros (word vectors have none). `counts`: each word's count (1 each when empty; fastText
// uses them only to train). ValueError for vectors fastText cannot hold.
FastTextModelFile fasttext_model_from_word_vectors(const WordVectors& vectors,
                                                   const std::vector<std::int64_t>& counts = {});

}  // namespace embedkit::io
