// The text classifier's model file: one safetensors file holding the tables, the counts, and
// the vocabulary, labels and options as metadata (io/model_metadata.hpp).
#include <limits>
#include <string>
#include <utility>

#include "embedkit/core/error.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/models/training_divergence.hpp"
#include "io/model_metadata.hpp"
#include "models/text_classifier_layers.hpp"

namespace embedkit::models {

namespace {

using text_classifier_detail::kInputName;
using text_classifier_detail::kOutputName;

// The file's format mark (io/model_metadata.hpp). Version 2 adds minn and maxn and is written
// only for a model with subwords: its input table has bucket rows that a version-1 reader would
// not expect with word_ngrams 1, or would read without the character n-grams (wrong
// predictions) with word_ngrams > 1. Models without subwords are still written as version 1, so
// their files are as before; both versions are read.
constexpr io::detail::ModelFormat kFileFormat{.kind = "text classifier",
                                              .version_key = "text_classifier.version",
                                              .version = "1",
                                              .kind_key = "embedkit.model",
                                              .kind_value = "text_classifier"};
constexpr io::detail::ModelFormat kSubwordFileFormat{.kind = "text classifier",
                                                     .version_key = "text_classifier.version",
                                                     .version = "2",
                                                     .kind_key = "embedkit.model",
                                                     .kind_value = "text_classifier"};

}  // namespace

void TextClassifier::save(const std::filesystem::path& path) const {
  // load() refuses a model with NaN or infinite parameters: never write one.
  for (const auto& [name, table] :
       {std::pair{kInputName, &input_}, std::pair{kOutputName, &output_}}) {
    const std::string problem = non_finite_tensor(*table, name);
    if (!problem.empty()) throw ValueError("text classifier: not saved: " + problem);
  }
  io::detail::ModelMetadataWriter meta(options_.subwords() ? kSubwordFileFormat : kFileFormat);
  meta.set_int("dim", options_.dim);
  meta.set_number("lr", options_.lr);
  meta.set_int("epochs", options_.epochs);
  meta.set_int("word_ngrams", options_.word_ngrams);
  meta.set_int("buckets", options_.buckets);
  if (options_.subwords()) {
    meta.set_int("minn", options_.minn);
    meta.set_int("maxn", options_.maxn);
  }
  meta.set_int("min_count", options_.min_count);
  meta.set_text("loss", classifier_loss_name(options_.loss));
  meta.set_int("negative", options_.negative);
  meta.set_flag("end_of_line", options_.end_of_line);
  meta.set_flag("shuffle", options_.shuffle);
  meta.set_int("threads", options_.threads);
  meta.set_uint("seed", options_.seed);
  meta.set_escaped_list("label_prefix", {options_.label_prefix});
  meta.set_flag("lowercase", options_.lowercase);
  meta.set_escaped_list("words", dictionary_.words().texts());
  meta.set_escaped_list("labels", dictionary_.labels().texts());
  io::save_safetensors(path,
                       {{kInputName, input_},
                        {kOutputName, output_},
                        {"word_counts", Tensor::from_vector(dictionary_.words().counts())},
                        {"label_counts", Tensor::from_vector(dictionary_.labels().counts())}},
                       meta.metadata());
}

bool TextClassifier::is_model_file(const std::filesystem::path& path) {
  try {
    const io::SafetensorsHeader header = io::read_safetensors_header(path);
    const auto kind = header.metadata.find(std::string(kFileFormat.kind_key));
    return kind != header.metadata.end() && kind->second == kFileFormat.kind_value;
  } catch (const std::exception&) {
    return false;
  }
}

TextClassifier TextClassifier::load(const std::filesystem::path& path) {
  io::SafetensorsContents file = io::load_safetensors(path);
  const auto version = file.metadata.find(std::string(kSubwordFileFormat.version_key));
  const bool subword_format =
      version != file.metadata.end() && version->second == kSubwordFileFormat.version;
  const io::detail::ModelMetadataReader meta(path.string(), std::move(file.metadata),
                                             subword_format ? kSubwordFileFormat : kFileFormat);
  ClassifierOptions o;
  if (subword_format) {
    o.minn = meta.int64("minn");
    o.maxn = meta.int64("maxn");
    if (o.maxn < 1) throw meta.error("metadata 'maxn' is below 1 in a subword model");
  }
  o.dim = meta.int64("dim");
  o.epochs = meta.int64("epochs");
  o.word_ngrams = meta.int64("word_ngrams");
  o.buckets = meta.int64("buckets");
  o.min_count = meta.int64("min_count");
  o.negative = meta.int64("negative");
  o.threads = meta.int64("threads");
  o.seed = meta.uint64("seed");
  o.end_of_line = meta.flag("end_of_line");
  o.shuffle = meta.flag("shuffle");
  o.lowercase = meta.flag("lowercase");
  o.lr = meta.number("lr");
  const std::vector<std::string> prefix = meta.escaped_list("label_prefix");
  if (prefix.size() != 1) throw meta.error("metadata 'label_prefix' is not one string");
  o.label_prefix = prefix[0];
  try {
    o.loss = parse_classifier_loss(meta.text("loss"));
    o.validate();
  } catch (const ValueError& e) {
    throw meta.error(e.what());
  }

  auto tensor = [&](const std::string& key, DType dtype) -> Tensor {
    for (auto& [n, t] : file.tensors) {
      if (n != key) continue;
      if (t.dtype() != dtype) throw meta.error("tensor '" + key + "' has the wrong dtype");
      return t;
    }
    throw meta.error("tensor '" + key + "' is missing");
  };
  const Tensor word_counts = tensor("word_counts", DType::Int64);
  const Tensor label_counts = tensor("label_counts", DType::Int64);
  Tensor input = tensor(kInputName, DType::Float32);
  Tensor output = tensor(kOutputName, DType::Float32);
  std::vector<std::string> words = meta.escaped_list("words");
  std::vector<std::string> labels = meta.escaped_list("labels");
  if (word_counts.dim() != 1 || label_counts.dim() != 1 ||
      word_counts.numel() != static_cast<std::int64_t>(words.size()) ||
      label_counts.numel() != static_cast<std::int64_t>(labels.size())) {
    throw meta.error("the vocabulary's words or labels do not match their counts");
  }
  // The Huffman tree (hs) adds the label counts up: their sum must fit in int64.
  for (const auto& [key, counts] :
       {std::pair{"word_counts", &word_counts}, std::pair{"label_counts", &label_counts}}) {
    std::int64_t sum = 0;
    const std::int64_t* c = counts->data<std::int64_t>();
    for (std::int64_t i = 0; i < counts->numel(); ++i) {
      if (c[i] < 1 || c[i] > std::numeric_limits<std::int64_t>::max() - sum) {
        throw meta.error("tensor '" + std::string(key) +
                         "' holds a count below 1 or counts whose sum overflows");
      }
      sum += c[i];
    }
  }
  Dictionary dictionary;
  try {
    dictionary = Dictionary::from_parts(std::move(words), word_counts.to_int64_vector(),
                                        std::move(labels), label_counts.to_int64_vector());
  } catch (const ValueError& e) {
    throw meta.error(e.what());
  }
  // Every size the metadata gives is checked against the tensors in the file before anything is
  // built from it. The input rows are words + buckets, compared by subtraction: the sum of a
  // lying 'buckets' could overflow.
  const std::int64_t num_words = dictionary.words().size();
  const std::int64_t bucket_rows = o.bucket_rows();
  if (input.dim() != 2 || input.size(0) < num_words || input.size(0) - num_words != bucket_rows ||
      input.size(1) != o.dim) {
    throw meta.error("tensor 'input.weight' is " + shape_string(input.shape()) + ", expected " +
                     std::to_string(num_words) + " words + " + std::to_string(bucket_rows) +
                     " buckets rows of dimension " + std::to_string(o.dim));
  }
  const std::int64_t num_labels = dictionary.labels().size();
  const std::int64_t output_rows = o.loss == ClassifierLoss::HierarchicalSoftmax
                                       ? std::max<std::int64_t>(num_labels - 1, 1)
                                       : num_labels;
  if (output.shape() != Shape{output_rows, o.dim}) {
    throw meta.error("tensor 'output.weight' is " + shape_string(output.shape()) + ", expected " +
                     shape_string({output_rows, o.dim}));
  }
  for (const auto& [key, table] :
       {std::pair{kInputName, &input}, std::pair{kOutputName, &output}}) {
    const std::string problem = non_finite_tensor(*table, key);
    if (!problem.empty()) throw meta.error(problem);
  }
  return TextClassifier(std::move(o), std::move(dictionary), std::move(input), std::move(output));
}

}  // namespace embedkit::models
