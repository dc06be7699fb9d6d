// Writing fastText's model files (fasttext_model.hpp): version 12, as fastText 0.9.2 writes them,
// dense (.bin) or quantized with pruned buckets (.ftz), so that `fasttext` reads them back. The
// byte layout is the reader's (fasttext_model_reader.cpp), section for section.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/fasttext_model.hpp"

namespace embedkit::io {

namespace {

template <typename T>
void put(std::string& out, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.append(raw, sizeof(T));
}

// fastText's reader splits text on these bytes (and stops a dictionary entry at 0).
bool is_separator(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0';
}

void check_entries(const std::vector<FastTextEntry>& entries, const char* kind) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const FastTextEntry& e = entries[i];
    if (e.text.empty())
      throw ValueError(std::string("fastText model: ") + kind + " " + std::to_string(i) +
                       " is empty");
    for (const char c : e.text) {
      if (is_separator(c)) {
        throw ValueError(std::string("fastText model: ") + kind + " '" + e.text +
                         "' holds whitespace or a 0 byte, which fastText cannot read back");
      }
    }
    if (e.count < 0) {
      throw ValueError(std::string("fastText model: ") + kind + " '" + e.text +
                       "' has a negative count");
    }
  }
}

void check_matrix(const Tensor& m, const char* name, std::int64_t rows, std::int64_t dim) {
  if (m.dtype() != DType::Float32 || m.dim() != 2 || m.size(0) != rows || m.size(1) != dim) {
    throw ValueError(std::string("fastText model: the ") + name + " matrix is " +
                     shape_string(m.shape()) + " " + std::string(dtype_name(m.dtype())) +
                     ", expected [" + std::to_string(rows) + ", " + std::to_string(dim) +
                     "] float32");
  }
  const Tensor& c = m;
  const float* v = c.data<float>();
  for (std::int64_t i = 0; i < c.numel(); ++i) {
    if (!std::isfinite(v[i])) {
      throw ValueError(std::string("fastText model: the ") + name +
                       " matrix holds a non-finite value at row " + std::to_string(i / dim));
    }
  }
}

std::string header_bytes(const FastTextModelFile& model) {
  std::string out;
  const FastTextArgs& a = model.args;
  const FastTextDictionary& d = model.dictionary;
  put<std::int32_t>(out, kFastTextMagic);
  put<std::int32_t>(out, kFastTextVersion);
  for (const std::int32_t v :
       {a.dim, a.ws, a.epoch, a.min_count, a.neg, a.word_ngrams, static_cast<std::int32_t>(a.loss),
        static_cast<std::int32_t>(a.model), a.bucket, a.minn, a.maxn, a.lr_update_rate}) {
    put<std::int32_t>(out, v);
  }
  put<double>(out, a.t);
  const auto nwords = static_cast<std::int32_t>(d.words.size());
  const auto nlabels = static_cast<std::int32_t>(d.labels.size());
  put<std::int32_t>(out, nwords + nlabels);
  put<std::int32_t>(out, nwords);
  put<std::int32_t>(out, nlabels);
  put<std::int64_t>(out, d.tokens);
  put<std::int64_t>(out, d.prune_index_size);  // -1: not pruned
  for (const auto* entries : {&d.words, &d.labels}) {
    const std::int8_t type = entries == &d.words ? 0 : 1;
    for (const FastTextEntry& e : *entries) {
      out += e.text;
      out.push_back('\0');
      put<std::int64_t>(out, e.count);
      put<std::int8_t>(out, type);
    }
  }
  for (const auto& [bucket, row] : d.prune_index) {
    put<std::int32_t>(out, bucket);
    put<std::int32_t>(out, row);
  }
  return out;
}

void put_quantizer(std::string& out, const FastTextProductQuantizer& q) {
  for (const std::int32_t v : {q.dim, q.nsubq, q.dsub, q.lastdsub}) put<std::int32_t>(out, v);
  out.append(reinterpret_cast<const char*>(q.centroids.data()), q.centroids.size() * sizeof(float));
}

// fastText's QuantMatrix::save.
std::string quantized_bytes(const FastTextQuantizedMatrix& m) {
  std::string out;
  put<std::uint8_t>(out, m.qnorm ? 1 : 0);
  put<std::int64_t>(out, m.rows);
  put<std::int64_t>(out, m.cols);
  put<std::int32_t>(out, static_cast<std::int32_t>(m.codes.size()));
  out.append(reinterpret_cast<const char*>(m.codes.data()), m.codes.size());
  put_quantizer(out, m.pq);
  if (m.qnorm) {
    out.append(reinterpret_cast<const char*>(m.norm_codes.data()), m.norm_codes.size());
    put_quantizer(out, m.npq);
  }
  return out;
}

void check_prune_index(const FastTextDictionary& d, std::int32_t buckets) {
  if (d.prune_index_size < -1) throw ValueError("fastText model: prune_index_size below -1");
  if (d.prune_index_size == -1) {
    if (!d.prune_index.empty()) {
      throw ValueError("fastText model: a prune index in a model that is not pruned");
    }
    return;
  }
  if (static_cast<std::int64_t>(d.prune_index.size()) != d.prune_index_size) {
    throw ValueError("fastText model: the prune index has " + std::to_string(d.prune_index.size()) +
                     " pairs, prune_index_size says " + std::to_string(d.prune_index_size));
  }
  std::vector<bool> bucket_seen(static_cast<std::size_t>(buckets));
  std::vector<bool> row_seen(d.prune_index.size());
  for (const auto& [bucket, row] : d.prune_index) {
    if (bucket < 0 || bucket >= buckets || row < 0 || row >= d.prune_index_size ||
        bucket_seen[static_cast<std::size_t>(bucket)] || row_seen[static_cast<std::size_t>(row)]) {
      throw ValueError("fastText model: the prune index maps bucket " + std::to_string(bucket) +
                       " to row " + std::to_string(row) + ", not one bucket of " +
                       std::to_string(buckets) + " to one row of " +
                       std::to_string(d.prune_index_size));
    }
    bucket_seen[static_cast<std::size_t>(bucket)] = true;
    row_seen[static_cast<std::size_t>(row)] = true;
  }
}

}  // namespace

void check_fasttext_model(const FastTextModelFile& model) {
  const FastTextArgs& a = model.args;
  const FastTextDictionary& d = model.dictionary;
  if (d.prune_index_size >= 0 && !model.quantized_input) {
    throw ValueError(
        "fastText model: pruned buckets need a quantized input matrix (fastText refuses others)");
  }
  if (model.quantized_output && !model.quantized_input) {
    throw ValueError("fastText model: a quantized output matrix needs a quantized input matrix");
  }
  if (a.dim < 1 || a.bucket < 0 || a.minn < 0 || a.maxn < 0 || a.word_ngrams < 1) {
    throw ValueError("fastText model: dim and wordNgrams must be >= 1, bucket, minn, maxn >= 0");
  }
  if (a.bucket == 0 &&
      (a.maxn > 0 || (a.model == FastTextModelType::Supervised && a.word_ngrams > 1))) {
    throw ValueError("fastText model: character or word n-grams need bucket > 0");
  }
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
  if (d.words.size() + d.labels.size() > kMax ||
      d.words.size() + static_cast<std::size_t>(a.bucket) > kMax) {
    throw ValueError(
        "fastText model: more words, labels and buckets than fastText's int32 ids hold");
  }
  if (d.tokens < 0) throw ValueError("fastText model: the token count is negative");
  if (a.model == FastTextModelType::Supervised && d.labels.empty()) {
    throw ValueError("fastText model: a supervised model needs at least one label");
  }
  check_entries(d.words, "word");
  check_entries(d.labels, "label");
  check_prune_index(d, a.bucket);
  const auto nwords = static_cast<std::int64_t>(d.words.size());
  const std::int64_t input_rows =
      nwords + (d.prune_index_size >= 0 ? d.prune_index_size : a.bucket);
  const std::int64_t output_rows = a.model == FastTextModelType::Supervised
                                       ? static_cast<std::int64_t>(d.labels.size())
                                       : nwords;
  for (const auto& [quantized, dense, codes, name, rows] :
       {std::tuple{model.quantized_input, &model.input, &model.input_codes, "input", input_rows},
        std::tuple{model.quantized_output, &model.output, &model.output_codes, "output",
                   output_rows}}) {
    if (!quantized) {
      check_matrix(*dense, name, rows, a.dim);
      continue;
    }
    codes->check(name);
    if (codes->rows != rows || codes->cols != a.dim) {
      throw ValueError(std::string("fastText model: the quantized ") + name + " matrix is " +
                       std::to_string(codes->rows) + " x " + std::to_string(codes->cols) +
                       ", expected " + std::to_string(rows) + " x " + std::to_string(a.dim));
    }
    if (codes->codes.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      throw ValueError(std::string("fastText model: the quantized ") + name +
                       " matrix has more codes than fastText's int32 code count holds");
    }
  }
}

namespace {

// The model after its dictionary: each matrix after its quantized flag, written by `write`
// (bytes to a string or to a file) so that a dense matrix is never copied into one string.
template <typename Write>
void write_matrices(const FastTextModelFile& model, Write&& write) {
  for (const auto& [quantized, dense, codes] :
       {std::tuple{model.quantized_input, &model.input, &model.input_codes},
        std::tuple{model.quantized_output, &model.output, &model.output_codes}}) {
    const char flag = quantized ? 1 : 0;
    write(&flag, 1);
    if (quantized) {
      const std::string bytes = quantized_bytes(*codes);
      write(bytes.data(), bytes.size());
      continue;
    }
    const Tensor& m = *dense;
    std::string head;
    put<std::int64_t>(head, m.size(0));
    put<std::int64_t>(head, m.size(1));
    write(head.data(), head.size());
    write(m.data<float>(), static_cast<std::size_t>(m.numel()) * sizeof(float));
  }
}

}  // namespace

std::string serialize_fasttext_model(const FastTextModelFile& model) {
  check_fasttext_model(model);
  std::string out = header_bytes(model);
  write_matrices(model, [&](const void* data, std::size_t n) {
    out.append(static_cast<const char*>(data), n);
  });
  return out;
}

void save_fasttext_model(const std::filesystem::path& path, const FastTextModelFile& model) {
  check_fasttext_model(model);
  AtomicFile file(path);
  const std::string head = header_bytes(model);
  file.write(head.data(), head.size());
  write_matrices(model, [&](const void* data, std::size_t n) { file.write(data, n); });
  file.commit();
}

FastTextModelFile fasttext_model_from_word_vectors(const WordVectors& vectors,
                                                   const std::vector<std::int64_t>& counts) {
  check_word_vectors(vectors);
  const auto rows = static_cast<std::int64_t>(vectors.words.size());
  if (!counts.empty() && static_cast<std::int64_t>(counts.size()) != rows) {
    throw ValueError("fastText model: " + std::to_string(counts.size()) + " counts for " +
                     std::to_string(rows) + " words");
  }
  if (vectors.matrix.size(1) > std::numeric_limits<std::int32_t>::max()) {
    throw ValueError("fastText model: the dimension does not fit fastText's int32");
  }
  FastTextModelFile f;
  f.args.dim = static_cast<std::int32_t>(vectors.matrix.size(1));
  f.args.model = FastTextModelType::SkipGram;
  f.args.loss = FastTextLoss::NegativeSampling;
  f.args.bucket = 0;
  f.args.minn = 0;
  f.args.maxn = 0;
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t c = counts.empty() ? 1 : counts[static_cast<std::size_t>(i)];
    f.dictionary.words.push_back({vectors.words[static_cast<std::size_t>(i)], c});
    f.dictionary.tokens += c;
  }
  f.input = vectors.matrix.clone();
  f.output = Tensor::zeros({rows, vectors.matrix.size(1)});
  check_fasttext_model(f);
  return f;
}

}  // namespace embedkit::io
