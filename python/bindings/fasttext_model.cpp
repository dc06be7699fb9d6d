// FastTextModel: a fastText model file (.bin/.ftz) queried as fastText 0.9.2 queries it
// (models::FastTextModel), for embedkit.fasttext's train_unsupervised / load_model and the
// n-gram table of embedkit.FastText (gensim's names). Vectors of any word, seen or not, come
// from here, so Python computes none of fastText's hashing itself.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/ngram_hashing.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::python {

namespace {

using models::FastTextModel;

py::array_t<float> to_numpy(const std::vector<float>& v) {
  py::array_t<float> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

const Tensor& dense_input(const FastTextModel& self) {
  if (self.file().quantized_input) {
    throw ValueError(
        "the model is quantized (.ftz): its input matrix is stored as codes, not floats");
  }
  return self.file().input;
}

// A line's words as fastText's getLine reads them for a supervised model: the tokens with the
// label prefix are its labels, not words.
std::vector<std::string> line_words(const std::string& line, const std::string& label_prefix) {
  models::LabelledTextOptions options;
  options.label_prefix = label_prefix;
  std::vector<std::string> labels;
  std::vector<std::string> words;
  models::split_fasttext_line(line, options, labels, words);
  return words;
}

py::tuple prediction_tuple(const std::vector<models::FastTextPrediction>& predictions) {
  std::vector<std::string> labels;
  py::array_t<double> probabilities(static_cast<py::ssize_t>(predictions.size()));
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    labels.push_back(predictions[i].text);
    probabilities.mutable_data()[i] = predictions[i].probability;
  }
  return py::make_tuple(labels, probabilities);
}

py::dict args_dict(const io::FastTextArgs& a) {
  py::dict d;
  d["dim"] = a.dim;
  d["ws"] = a.ws;
  d["epoch"] = a.epoch;
  d["minCount"] = a.min_count;
  d["neg"] = a.neg;
  d["wordNgrams"] = a.word_ngrams;
  d["loss"] = std::string(io::fasttext_loss_name(a.loss));
  d["model"] = std::string(io::fasttext_model_type_name(a.model));
  d["bucket"] = a.bucket;
  d["minn"] = a.minn;
  d["maxn"] = a.maxn;
  d["lrUpdateRate"] = a.lr_update_rate;
  d["t"] = a.t;
  return d;
}

}  // namespace

void bind_fasttext_model(py::module_& m) {
  m.def(
      "word_hash", [](const std::string& text) { return models::word_hash(text); }, py::arg("text"),
      "fastText's hash of a word or n-gram (32-bit FNV-1a over its UTF-8 bytes, each "
      "sign-extended), as its dictionary and buckets use it.");
  py::class_<FastTextModel>(m, "FastTextModel",
                            "A fastText model (.bin/.ftz), queried as fastText 0.9.2 does "
                            "(embedkit.fasttext and embedkit.FastText wrap it).")
      .def_static(
          "load", [](const std::filesystem::path& path) { return FastTextModel::load(path); },
          py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Reads a fastText .bin or .ftz file (OSError naming the problem for a bad one).")
      .def_static(
          "from_bytes",
          [](const py::bytes& data) {
            const std::string_view bytes = data;
            std::span<const std::uint8_t> span(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                               bytes.size());
            py::gil_scoped_release release;
            return FastTextModel(io::parse_fasttext_model(span, "<bytes>"));
          },
          py::arg("data"), "Reads the bytes of a .bin file (what to_bytes() gives).")
      .def(
          "to_bytes",
          [](const FastTextModel& self) {
            std::string bytes;
            {
              py::gil_scoped_release release;
              bytes = io::serialize_fasttext_model(self.file());
            }
            return py::bytes(bytes);
          },
          "The model as the bytes of a .bin file.")
      .def(
          "save",
          [](const FastTextModel& self, const std::filesystem::path& path) {
            io::save_fasttext_model(path, self.file());
          },
          py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Writes the model as fastText's .bin (.ftz when quantized), atomically.")
      .def(
          "word_vector",
          [](const FastTextModel& self, const std::string& word) {
            return to_numpy(self.word_vector(word));
          },
          py::arg("word"),
          "fastText's getWordVector: the mean of the word's own row (when in the dictionary) "
          "and its character n-gram rows; zeros when it has none.")
      .def(
          "subword_rows",
          [](const FastTextModel& self, const std::string& word) {
            const std::vector<std::int64_t> rows = self.subword_rows(word);
            py::array_t<std::int64_t> out(static_cast<py::ssize_t>(rows.size()));
            std::copy(rows.begin(), rows.end(), out.mutable_data());
            return out;
          },
          py::arg("word"),
          "The input rows whose mean is the word's vector: its own row first when in the "
          "dictionary, then its n-grams' rows (nwords + bucket id), in fastText's order.")
      .def(
          "word_id",
          [](const FastTextModel& self, const std::string& word) {
            return self.word_id(word).value_or(-1);
          },
          py::arg("word"), "The word's row, or -1 when it is not in the dictionary.")
      .def(
          "sentence_vector",
          [](const FastTextModel& self, const std::vector<std::string>& words) {
            return to_numpy(self.sentence_vector(words));
          },
          py::arg("words"), "fastText's getSentenceVector of a line's words.")
      .def(
          "predict",
          [](const FastTextModel& self, const std::vector<std::string>& words, std::int64_t k,
             double threshold) {
            std::vector<models::FastTextPrediction> predictions;
            {
              py::gil_scoped_release release;
              predictions = self.predict(words, k, threshold);
            }
            return prediction_tuple(predictions);
          },
          py::arg("words"), py::arg("k"), py::arg("threshold"),
          "Supervised models: the k best labels of a line's words and their probabilities.")
      .def(
          "predict_lines",
          [](const FastTextModel& self, const std::vector<std::string>& lines, std::int64_t k,
             double threshold, const std::string& label_prefix) {
            std::vector<std::vector<models::FastTextPrediction>> predictions(lines.size());
            {
              py::gil_scoped_release release;
              for (std::size_t i = 0; i < lines.size(); ++i) {
                predictions[i] = self.predict(line_words(lines[i], label_prefix), k, threshold);
              }
            }
            py::list out;
            for (const auto& line : predictions) out.append(prediction_tuple(line));
            return out;
          },
          py::arg("lines"), py::arg("k"), py::arg("threshold"), py::arg("label_prefix"),
          "Supervised models: for each line, its k best labels and their probabilities; the "
          "line's tokens with label_prefix are labels, not words (fastText's getLine).")
      .def(
          "line_words",
          [](const FastTextModel&, const std::string& line, const std::string& label_prefix) {
            return line_words(line, label_prefix);
          },
          py::arg("line"), py::arg("label_prefix"),
          "The words of a line: its tokens without those that carry label_prefix.")
      .def(
          "evaluate",
          [](const FastTextModel& self, const std::string& path, std::int64_t k, double threshold,
             const std::string& label_prefix) {
            if (!self.supervised()) {
              throw ValueError("test needs a supervised model; this one holds word vectors");
            }
            models::ClassifierEvaluation r;
            {
              py::gil_scoped_release release;
              r = self.evaluate(read_labelled_file(path, label_prefix), k, threshold, label_prefix);
            }
            const auto& labels = self.file().dictionary.labels;
            r.per_label.resize(std::min(r.per_label.size(), labels.size()));
            return evaluation_dict(r, [&](std::size_t i) { return labels[i].text; });
          },
          py::arg("path"), py::arg("k"), py::arg("threshold"), py::arg("label_prefix"),
          "fastText's test of a supervised model over a labelled file whose labels carry "
          "label_prefix: examples, precision@k, recall@k, and per label (gold, predicted, "
          "correct).")
      .def(
          "word_vector_matrix",
          [](const FastTextModel& self) {
            io::WordVectors v;
            {
              py::gil_scoped_release release;
              v = self.word_vectors();
            }
            return to_array(v.matrix);
          },
          "Every dictionary word's vector, float32 [nwords, dim], in dictionary order.")
      .def_property_readonly("dim", &FastTextModel::dim)
      .def_property_readonly("num_words", &FastTextModel::num_words)
      .def_property_readonly("supervised", &FastTextModel::supervised)
      .def_property_readonly("quantized",
                             [](const FastTextModel& self) { return self.file().quantized_input; })
      .def_property_readonly("args",
                             [](const FastTextModel& self) { return args_dict(self.args()); })
      .def_property_readonly("words",
                             [](const FastTextModel& self) {
                               std::vector<std::string> out;
                               for (const auto& e : self.file().dictionary.words)
                                 out.push_back(e.text);
                               return out;
                             })
      .def_property_readonly("word_counts",
                             [](const FastTextModel& self) {
                               std::vector<std::int64_t> out;
                               for (const auto& e : self.file().dictionary.words)
                                 out.push_back(e.count);
                               return out;
                             })
      .def_property_readonly("labels",
                             [](const FastTextModel& self) {
                               std::vector<std::string> out;
                               for (const auto& e : self.file().dictionary.labels)
                                 out.push_back(e.text);
                               return out;
                             })
      .def_property_readonly("label_counts",
                             [](const FastTextModel& self) {
                               std::vector<std::int64_t> out;
                               for (const auto& e : self.file().dictionary.labels)
                                 out.push_back(e.count);
                               return out;
                             })
      .def_property_readonly(
          "tokens", [](const FastTextModel& self) { return self.file().dictionary.tokens; })
      .def_property_readonly(
          "input_matrix", [](const FastTextModel& self) { return to_array(dense_input(self)); },
          "The input matrix [nwords + bucket, dim], shared with the model (no copy). "
          "ValueError for a quantized model.")
      .def_property_readonly(
          "output_matrix",
          [](const FastTextModel& self) {
            if (self.file().quantized_output) {
              throw ValueError("the model's output matrix is quantized (stored as codes)");
            }
            return to_array(self.file().output);
          },
          "The output matrix, shared with the model (no copy).");
}

}  // namespace embedkit::python
