// Writing fastText's .bin model files (fasttext_model.hpp): dense, version 12, as fastText 0.9.2
// writes them, so that `fasttext` reads them back.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

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
  put<std::int64_t>(out, -1);  // not pruned
  for (const auto* entries : {&d.words, &d.labels}) {
    const std::int8_t type = entries == &d.words ? 0 : 1;
    for (const FastTextEntry& e : *entries) {
      out += e.text;
      out.push_back('\0');
      put<std::int64_t>(out, e.count);
      put<std::int8_t>(out, type);
    }
  }
  return out;
}

void append_matrix(AtomicFile& file, const Tensor& m) {
  const Tensor& c = m;
  std::string head;
  put<std::int64_t>(head, c.size(0));
  put<std::int64_t>(head, c.size(1));
  file.write(head.data(), head.size());
  file.write(c.data<float>(), static_cast<std::size_t>(c.numel()) * sizeof(float));
}

}  // namespace

void check_fasttext_model(const FastTextModelFile& model) {
  const FastTextArgs& a = model.args;
  const FastTextDictionary& d = model.dictionary;
  if (model.quantized_input || model.quantized_output || d.prune_index_size >= 0) {
    throw ValueError(
        "fastText model: quantized or pruned models are not written (only dense .bin)");
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
  const auto nwords = static_cast<std::int64_t>(d.words.size());
  check_matrix(model.input, "input", nwords + a.bucket, a.dim);
  check_matrix(model.output, "output",
               a.model == FastTextModelType::Supervised ? static_cast<std::int64_t>(d.labels.size())
                                                        : nwords,
               a.dim);
}

std::string serialize_fasttext_model(const FastTextModelFile& model) {
  check_fasttext_model(model);
  std::string out = header_bytes(model);
  put<std::uint8_t>(out, 0);  // dense input
  for (const Tensor* m : {&model.input, &model.output}) {
    const Tensor& c = *m;
    put<std::int64_t>(out, c.size(0));
    put<std::int64_t>(out, c.size(1));
    out.append(reinterpret_cast<const char*>(c.data<float>()),
               static_cast<std::size_t>(c.numel()) * sizeof(float));
    if (m == &model.input) put<std::uint8_t>(out, 0);  // dense output
  }
  return out;
}

void save_fasttext_model(const std::filesystem::path& path, const FastTextModelFile& model) {
  check_fasttext_model(model);
  // Streamed: a model's matrices are written from the tables, never copied into one string.
  AtomicFile file(path);
  std::string head = header_bytes(model);
  head.push_back('\0');  // dense input
  file.write(head.data(), head.size());
  append_matrix(file, model.input);
  const char dense_output = '\0';
  file.write(&dense_output, 1);
  append_matrix(file, model.output);
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
