#include "embedkit/models/fasttext_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/models/dictionary.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/models/word2vec.hpp"

namespace embedkit::models {

namespace {

constexpr std::string_view kEndOfLine = "</s>";

// fastText's score of a probability: log(p + 1e-5), in float as fastText computes it.
float score_of(float p) {
  return static_cast<float>(std::log(static_cast<double>(p) + 1e-5));
}

// fastText's sigmoid table (loss.cc): 513 values over [-8, 8], looked up by truncation.
float table_sigmoid(float x) {
  constexpr std::int64_t kSize = 512;
  constexpr std::int64_t kMax = 8;
  static const std::vector<float> table = [] {
    std::vector<float> t;
    for (std::int64_t i = 0; i <= kSize; ++i) {
      const float v =
          static_cast<float>(i * 2 * kMax) / static_cast<float>(kSize) - static_cast<float>(kMax);
      t.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v)))));
    }
    return t;
  }();
  if (x < -static_cast<float>(kMax)) return 0.0f;
  if (x > static_cast<float>(kMax)) return 1.0f;
  const auto i = static_cast<std::int64_t>(
      (x + static_cast<float>(kMax)) * static_cast<float>(kSize) / static_cast<float>(kMax) / 2.0f);
  return table[static_cast<std::size_t>(i)];
}

// fastText's heap order: the best score at the front of a min-heap of the k best.
bool better(const std::pair<float, std::int64_t>& a, const std::pair<float, std::int64_t>& b) {
  return a.first > b.first;
}

using Heap = std::vector<std::pair<float, std::int64_t>>;

void push_best(Heap& heap, std::size_t k, float score, std::int64_t label) {
  heap.emplace_back(score, label);
  std::push_heap(heap.begin(), heap.end(), better);
  if (heap.size() > k) {
    std::pop_heap(heap.begin(), heap.end(), better);
    heap.pop_back();
  }
}

}  // namespace

float FastTextModel::output_dot(std::int64_t row, const std::vector<float>& v) const {
  if (file_.quantized_output) return file_.output_codes.dot_row(row, v.data());
  const float* r = file_.output.data<float>() + row * file_.output.size(1);
  float d = 0;
  for (std::size_t j = 0; j < v.size(); ++j) d += r[j] * v[j];
  return d;
}

FastTextModel::FastTextModel(io::FastTextModelFile file) : file_(std::move(file)) {
  const auto& d = file_.dictionary;
  // What the queries index: checked here too, for files built in memory rather than read.
  const auto words = static_cast<std::int64_t>(d.words.size());
  const std::int64_t input_rows =
      words + (d.prune_index_size >= 0 ? d.prune_index_size : file_.args.bucket);
  const std::int64_t output_rows =
      supervised() ? static_cast<std::int64_t>(d.labels.size()) : words;
  auto fits = [&](bool quantized, const Tensor& m, const io::FastTextQuantizedMatrix& codes,
                  std::int64_t rows) {
    if (quantized) {
      try {
        codes.check("");
      } catch (const ValueError&) {
        return false;
      }
      return codes.rows == rows && codes.cols == file_.args.dim;
    }
    return m.defined() && m.dtype() == DType::Float32 && m.dim() == 2 && m.size(0) == rows &&
           m.size(1) == file_.args.dim;
  };
  if (file_.args.dim < 1 ||
      !fits(file_.quantized_input, file_.input, file_.input_codes, input_rows) ||
      !fits(file_.quantized_output, file_.output, file_.output_codes, output_rows)) {
    throw ValueError("fastText model: the matrices are not [" + std::to_string(input_rows) +
                     ", dim] and [" + std::to_string(output_rows) + ", dim] float32");
  }
  if (supervised() && d.labels.empty()) {
    throw ValueError("fastText model: a supervised model without labels");
  }
  word_ids_.reserve(d.words.size());
  for (std::size_t i = 0; i < d.words.size(); ++i) {
    if (!word_ids_.emplace(d.words[i].text, static_cast<std::int64_t>(i)).second) {
      throw ValueError("fastText model: the word '" + d.words[i].text + "' appears twice");
    }
  }
  for (const auto& [bucket, row] : d.prune_index) pruned_[bucket] = row;
  if (supervised() && file_.args.loss == io::FastTextLoss::HierarchicalSoftmax) {
    // fastText's HierarchicalSoftmaxLoss::buildTree over the label counts (labels come sorted by
    // count, descending): leaves 0..n-1, inner nodes n..2n-2, merged two smallest first.
    const auto n = static_cast<std::int64_t>(d.labels.size());
    std::vector<std::int64_t> count(static_cast<std::size_t>(2 * n - 1),
                                    static_cast<std::int64_t>(1e15));
    tree_left_.assign(count.size(), -1);
    tree_right_.assign(count.size(), -1);
    for (std::int64_t i = 0; i < n; ++i)
      count[static_cast<std::size_t>(i)] = d.labels[static_cast<std::size_t>(i)].count;
    std::int64_t leaf = n - 1;
    std::int64_t node = n;
    for (std::int64_t i = n; i < 2 * n - 1; ++i) {
      std::int64_t mini[2] = {0, 0};
      for (std::int64_t& m : mini) {
        if (leaf >= 0 &&
            count[static_cast<std::size_t>(leaf)] < count[static_cast<std::size_t>(node)]) {
          m = leaf--;
        } else {
          m = node++;
        }
      }
      const auto at = static_cast<std::size_t>(i);
      tree_left_[at] = mini[0];
      tree_right_[at] = mini[1];
      count[at] =
          count[static_cast<std::size_t>(mini[0])] + count[static_cast<std::size_t>(mini[1])];
    }
  }
}

FastTextModel FastTextModel::load(const std::filesystem::path& path) {
  io::FastTextModelFile file = io::load_fasttext_model(path);
  try {
    return FastTextModel(std::move(file));
  } catch (const ValueError& e) {
    throw IoError(path.string(), e.what());
  }
}

std::int64_t FastTextModel::num_words() const {
  return static_cast<std::int64_t>(file_.dictionary.words.size());
}

std::optional<std::int64_t> FastTextModel::word_id(std::string_view word) const {
  const auto it = word_ids_.find(std::string(word));
  if (it == word_ids_.end()) return std::nullopt;
  return it->second;
}

void FastTextModel::append_ngram_row(std::int64_t bucket, std::vector<std::int64_t>& rows) const {
  // fastText's pushHash: a pruned model keeps only the buckets in its prune index.
  const std::int64_t prune = file_.dictionary.prune_index_size;
  if (prune == 0) return;
  if (prune > 0) {
    const auto it = pruned_.find(static_cast<std::int32_t>(bucket));
    if (it == pruned_.end()) return;
    bucket = it->second;
  }
  rows.push_back(num_words() + bucket);
}

std::vector<std::int64_t> FastTextModel::subword_rows(std::string_view word) const {
  std::vector<std::int64_t> rows;
  if (const auto id = word_id(word)) rows.push_back(*id);
  if (word == kEndOfLine || file_.args.maxn < 1) return rows;
  std::vector<std::int64_t> buckets;
  std::string wrapped;  // fastText's word boundaries
  wrapped.reserve(word.size() + 2);
  wrapped.push_back('<');
  wrapped.append(word);
  wrapped.push_back('>');
  append_char_ngram_buckets(wrapped, file_.args.minn, file_.args.maxn, file_.args.bucket, buckets);
  for (const std::int64_t b : buckets) append_ngram_row(b, rows);
  return rows;
}

std::vector<float> FastTextModel::mean_of_rows(const std::vector<std::int64_t>& rows) const {
  const auto d = static_cast<std::size_t>(dim());
  std::vector<float> v(d, 0.0f);
  if (file_.quantized_input) {
    // Straight from the codes (fastText's QuantMatrix::addRowToVector): the same sums as over
    // the decoded rows, without decoding the matrix.
    for (const std::int64_t r : rows) file_.input_codes.add_row(r, v.data());
  } else {
    const float* table = file_.input.data<float>();
    for (const std::int64_t r : rows) {
      const float* row = table + r * dim();
      for (std::size_t j = 0; j < d; ++j) v[j] += row[j];
    }
  }
  if (!rows.empty()) {
    // As fastText: the sum times the float nearest 1/n.
    const auto scale = static_cast<float>(1.0 / static_cast<double>(rows.size()));
    for (float& x : v) x *= scale;
  }
  return v;
}

std::vector<float> FastTextModel::word_vector(std::string_view word) const {
  return mean_of_rows(subword_rows(word));
}

io::WordVectors FastTextModel::word_vectors() const {
  const auto& words = file_.dictionary.words;
  io::WordVectors out;
  out.matrix = Tensor::empty({num_words(), dim()});
  float* m = out.matrix.data<float>();
  for (std::size_t i = 0; i < words.size(); ++i) {
    out.words.push_back(words[i].text);
    const std::vector<float> v = word_vector(words[i].text);
    std::copy(v.begin(), v.end(), m + static_cast<std::int64_t>(i) * dim());
  }
  return out;
}

std::vector<std::int64_t> FastTextModel::line_rows(const std::vector<std::string>& words) const {
  std::vector<std::int64_t> rows;
  std::vector<std::uint32_t> hashes;
  auto add = [&](std::string_view w) {
    if (file_.args.maxn < 1) {
      if (const auto id = word_id(w)) rows.push_back(*id);
    } else {
      const std::vector<std::int64_t> sub = subword_rows(w);
      rows.insert(rows.end(), sub.begin(), sub.end());
    }
    hashes.push_back(word_hash(w));
  };
  for (const std::string& w : words) add(w);
  add(kEndOfLine);
  if (supervised() && file_.args.word_ngrams > 1) {
    std::vector<std::int64_t> buckets;
    append_word_ngrams(hashes, file_.args.word_ngrams, file_.args.bucket, 0, buckets);
    for (const std::int64_t b : buckets) append_ngram_row(b, rows);
  }
  return rows;
}

std::vector<float> FastTextModel::sentence_vector(const std::vector<std::string>& words) const {
  if (supervised()) return mean_of_rows(line_rows(words));
  const auto d = static_cast<std::size_t>(dim());
  std::vector<float> sum(d, 0.0f);
  std::int64_t count = 0;
  for (const std::string& w : words) {
    std::vector<float> v = word_vector(w);
    float norm = 0;
    for (const float x : v) norm += x * x;
    norm = std::sqrt(norm);
    if (norm > 0) {
      const auto inv = static_cast<float>(1.0 / static_cast<double>(norm));
      for (std::size_t j = 0; j < d; ++j) sum[j] += v[j] * inv;
      ++count;
    }
  }
  if (count > 0) {
    const auto scale = static_cast<float>(1.0 / static_cast<double>(count));
    for (float& x : sum) x *= scale;
  }
  return sum;
}

std::vector<FastTextPrediction> FastTextModel::predict(const std::vector<std::string>& words,
                                                       std::int64_t k, double threshold) const {
  if (!supervised()) {
    throw ValueError("fastText model: prediction needs a supervised model, this one is '" +
                     std::string(io::fasttext_model_type_name(file_.args.model)) + "'");
  }
  if (k < 1) throw ValueError("fastText model: k must be >= 1, got " + std::to_string(k));
  const std::vector<std::int64_t> rows = line_rows(words);
  if (rows.empty()) return {};
  const std::vector<float> hidden = mean_of_rows(rows);
  const auto n = static_cast<std::int64_t>(file_.dictionary.labels.size());
  const auto kk = static_cast<std::size_t>(k);
  const auto thr = static_cast<float>(threshold);
  Heap heap;
  auto find_k_best = [&](const std::vector<float>& out) {
    for (std::int64_t i = 0; i < n; ++i) {
      const float p = out[static_cast<std::size_t>(i)];
      if (p < thr) continue;
      if (heap.size() == kk && score_of(p) < heap.front().first) continue;
      push_best(heap, kk, score_of(p), i);
    }
  };
  switch (file_.args.loss) {
    case io::FastTextLoss::Softmax: {
      std::vector<float> out(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = output_dot(i, hidden);
      const float max = *std::max_element(out.begin(), out.end());
      float z = 0;
      for (float& x : out) {
        x = std::exp(x - max);
        z += x;
      }
      for (float& x : out) x /= z;
      find_k_best(out);
      break;
    }
    case io::FastTextLoss::NegativeSampling:
    case io::FastTextLoss::OneVsAll: {
      std::vector<float> out(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) {
        out[static_cast<std::size_t>(i)] = table_sigmoid(output_dot(i, hidden));
      }
      find_k_best(out);
      break;
    }
    case io::FastTextLoss::HierarchicalSoftmax: {
      // fastText's depth-first walk from the root, pruned by the threshold and the k-th best.
      const float min_score = score_of(thr);
      auto dfs = [&](auto& self, std::int64_t node, float score) -> void {
        if (score < min_score) return;
        if (heap.size() == kk && score < heap.front().first) return;
        const auto at = static_cast<std::size_t>(node);
        if (tree_left_[at] == -1 && tree_right_[at] == -1) {
          push_best(heap, kk, score, node);
          return;
        }
        const float f = static_cast<float>(
            1.0 / (1.0 + std::exp(-static_cast<double>(output_dot(node - n, hidden)))));
        self(self, tree_left_[at], score + score_of(1.0f - f));
        self(self, tree_right_[at], score + score_of(f));
      };
      dfs(dfs, 2 * n - 2, 0.0f);
      break;
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  std::vector<FastTextPrediction> result;
  for (const auto& [score, label] : heap) {
    result.push_back({label, file_.dictionary.labels[static_cast<std::size_t>(label)].text,
                      std::exp(static_cast<double>(score))});
  }
  return result;
}

io::FastTextModelFile FastTextModel::from_classifier(const TextClassifier& classifier) {
  const ClassifierOptions& o = classifier.options();
  const std::string why = "this classifier cannot be written as a fastText model: ";
  if (o.loss == ClassifierLoss::HierarchicalSoftmax) {
    throw ValueError(why +
                     "its loss is hs, and fastText builds its Huffman tree over the labels "
                     "in another order (softmax and ns classifiers can be written)");
  }
  if (o.lowercase) {
    throw ValueError(why + "it lowercases its input, which fastText does not");
  }
  if (!o.end_of_line && o.word_ngrams > 1) {
    throw ValueError(why +
                     "it has word n-grams without \"</s>\", and fastText always ends a "
                     "line with \"</s>\"");
  }
  const Dictionary& d = classifier.dictionary();
  const std::int64_t buckets = o.bucket_rows();
  if (o.dim > std::numeric_limits<std::int32_t>::max() ||
      buckets > std::numeric_limits<std::int32_t>::max() ||
      o.word_ngrams > std::numeric_limits<std::int32_t>::max() ||
      o.epochs > std::numeric_limits<std::int32_t>::max() ||
      o.min_count > std::numeric_limits<std::int32_t>::max() ||
      o.negative > std::numeric_limits<std::int32_t>::max() ||
      o.maxn > std::numeric_limits<std::int32_t>::max()) {
    throw ValueError(why + "an option is beyond fastText's int32");
  }
  io::FastTextModelFile f;
  f.args.dim = static_cast<std::int32_t>(o.dim);
  f.args.epoch = static_cast<std::int32_t>(o.epochs);
  f.args.min_count = static_cast<std::int32_t>(o.min_count);
  f.args.neg = static_cast<std::int32_t>(o.negative);
  f.args.word_ngrams = static_cast<std::int32_t>(o.word_ngrams);
  f.args.loss = o.loss == ClassifierLoss::Softmax ? io::FastTextLoss::Softmax
                                                  : io::FastTextLoss::NegativeSampling;
  f.args.model = io::FastTextModelType::Supervised;
  f.args.bucket = static_cast<std::int32_t>(buckets);
  // fastText's getLine gives each word its character n-grams when maxn > 0, in the same bucket
  // rows as the word n-grams, as the classifier does.
  f.args.minn = o.subwords() ? static_cast<std::int32_t>(o.minn) : 0;
  f.args.maxn = o.subwords() ? static_cast<std::int32_t>(o.maxn) : 0;
  for (std::int64_t i = 0; i < d.words().size(); ++i) {
    f.dictionary.words.push_back({d.words().text(i), d.words().count(i)});
  }
  for (std::int64_t i = 0; i < d.labels().size(); ++i) {
    f.dictionary.labels.push_back({o.label_prefix + d.labels().text(i), d.labels().count(i)});
  }
  f.dictionary.tokens = d.words().total_count() + d.labels().total_count();
  f.input = classifier.input_table().clone();
  f.output = classifier.output_table().clone();
  io::check_fasttext_model(f);
  return f;
}

io::FastTextModelFile FastTextModel::from_word2vec(const Word2VecResult& result,
                                                   const Word2VecOptions& options) {
  const Dictionary::Entries& words = result.dictionary.words();
  const std::int64_t v = words.size();
  io::FastTextModelFile f;
  const auto narrow = [](std::int64_t x, const char* what) {
    if (x > std::numeric_limits<std::int32_t>::max()) {
      throw ValueError(std::string("fastText model: the ") + what +
                       " does not fit fastText's int32");
    }
    return static_cast<std::int32_t>(x);
  };
  f.args.dim = narrow(options.dim, "dimension");
  f.args.ws = narrow(options.window, "window");
  f.args.epoch = narrow(options.epochs, "epoch count");
  f.args.min_count = narrow(options.min_count, "min count");
  f.args.neg = narrow(options.negative, "negative count");
  f.args.word_ngrams = 1;
  f.args.loss = options.loss == Word2VecLoss::HierarchicalSoftmax
                    ? io::FastTextLoss::HierarchicalSoftmax
                    : io::FastTextLoss::NegativeSampling;
  f.args.model = options.architecture == Word2VecArchitecture::Cbow
                     ? io::FastTextModelType::Cbow
                     : io::FastTextModelType::SkipGram;
  f.args.t = options.sample;
  if (options.subwords()) {
    f.args.bucket = narrow(options.bucket, "bucket count");
    f.args.minn = narrow(options.minn, "minn");
    f.args.maxn = narrow(options.maxn, "maxn");
  } else {
    f.args.bucket = 0;
    f.args.minn = 0;
    f.args.maxn = 0;
  }
  for (std::int64_t i = 0; i < v; ++i)
    f.dictionary.words.push_back({words.text(i), words.count(i)});
  f.dictionary.tokens = result.corpus.tokens;
  f.input = options.subwords() ? result.input : result.vectors;
  const std::int64_t expected_input = v + (options.subwords() ? options.bucket : 0);
  if (!f.input.defined() || f.input.dim() != 2 || f.input.size(0) != expected_input ||
      f.input.size(1) != options.dim) {
    throw ValueError(
        "fastText model: the training result does not match its options (input "
        "table of " +
        std::to_string(expected_input) + " rows expected)");
  }
  // fastText's output table has a row per word; hs uses V - 1 of them (inner nodes).
  f.output = Tensor::zeros({v, options.dim});
  if (result.output.defined()) {
    const std::int64_t rows = std::min(v, result.output.size(0));
    std::copy_n(result.output.data<float>(), rows * options.dim, f.output.data<float>());
  }
  io::check_fasttext_model(f);
  return f;
}

}  // namespace embedkit::models
