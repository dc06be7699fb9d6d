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
// bytes after the output matrix). A quantized matrix is decoded when read (each row the
// concatenation of its centroids, times its decoded norm), so what comes out is always dense.
// load_fasttext_model streams a regular file (its matrices go straight into their tensors, so a
// model of several GB is not held twice) and reads a pipe whole.
//
// Writing produces what fastText 0.9.2 reads (version 12, dense matrices) and replaces the file
// atomically (atomic_file.hpp); ValueError, before the file is touched, for a model that the
// format cannot hold or that fastText would misread.
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

struct FastTextModelFile {
  std::int32_t version = kFastTextVersion;
  FastTextArgs args;
  FastTextDictionary dictionary;
  Tensor input;                  // float32 [input rows (see above), dim]
  Tensor output;                 // float32 [labels or words, dim]
  bool quantized_input = false;  // read from a quantized matrix (decoded into `input`)
  bool quantized_output = false;
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
// a value that is not finite, a size beyond int32, a pruned or quantized model (only dense
// models are written).
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
