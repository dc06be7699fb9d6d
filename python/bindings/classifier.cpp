// The fastText-style text classifier: training from a labelled file, prediction, evaluation,
// vectors and files. python/embedkit/fasttext.py gives it fastText's Python names and return
// types; this file keeps to embedkit's (labels here carry the model's label prefix, as fastText
// shows them).
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/models/autotune.hpp"
#include "embedkit/models/autotune_model_size.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::python {

using models::ClassifierOptions;
using models::ClassifierProgress;
using models::LabelledExample;
using models::TextClassifier;

std::vector<LabelledExample> read_labelled_file(const std::string& path,
                                                const std::string& label_prefix) {
  models::LabelledTextOptions options;
  options.format = models::TextFormat::FastText;
  options.label_prefix = label_prefix;
  try {
    return models::read_labelled_text(path, options);
  } catch (const IoError& e) {
    std::error_code ec;
    const bool readable =
        std::filesystem::is_regular_file(path, ec) && std::ifstream(path).is_open();
    if (!readable) throw;
    throw ValueError(e.what());
  }
}

std::function<void(const ClassifierProgress&)> training_progress(const py::object& progress) {
  // Called on the training's calling thread with the GIL released: it takes the GIL, lets Python
  // handle a pending signal (Ctrl-C raises KeyboardInterrupt there) and calls the Python
  // callback, whose exception stops the training (the threads are joined and it is rethrown).
  // `progress` is held by address: copying the function must not copy a Python reference
  // without the GIL.
  return [callback = &progress](const ClassifierProgress& p) {
    py::gil_scoped_acquire gil;
    raise_pending_signal();
    if (callback->is_none()) return;
    py::dict report;
    report["fraction"] = p.fraction;
    report["tokens"] = p.tokens;
    report["words_per_second_per_thread"] = p.tokens_per_second_per_thread;
    report["lr"] = p.lr;
    report["loss"] = p.loss;
    report["elapsed_seconds"] = p.elapsed_seconds;
    report["eta_seconds"] = p.eta_seconds;
    (*callback)(report);
  };
}

namespace {

// The label as fastText shows it: with the model's prefix.
std::string shown_label(const TextClassifier& model, std::int64_t id) {
  return model.options().label_prefix + model.dictionary().labels().text(id);
}

std::vector<std::string> words_of(const TextClassifier& model, const std::string& line) {
  models::LabelledTextOptions options;
  options.label_prefix = model.options().label_prefix;
  options.lowercase = model.options().lowercase;
  std::vector<std::string> labels;
  std::vector<std::string> words;
  models::split_fasttext_line(line, options, labels, words);
  return words;
}

// The mean of the input rows a line looks up (fastText's hidden layer, its sentence vector).
py::array_t<float> hidden_of(const TextClassifier& model, const std::string& line) {
  const std::int64_t dim = model.options().dim;
  py::array_t<float> out(dim);
  float* v = out.mutable_data();
  std::fill(v, v + dim, 0.0f);
  const std::vector<std::int64_t> ids = model.input_ids(words_of(model, line));
  if (ids.empty()) return out;
  const float* table = model.input_table().data<float>();
  for (const std::int64_t id : ids) {
    const float* row = table + id * dim;
    for (std::int64_t j = 0; j < dim; ++j) v[j] += row[j];
  }
  const float scale = 1.0f / static_cast<float>(ids.size());
  for (std::int64_t j = 0; j < dim; ++j) v[j] *= scale;
  return out;
}

// The trained classifier and, with a model size (fastText's autotuneModelSize), the quantized
// model that fits it (else None).
py::tuple train(const std::string& path, std::int64_t dim, double lr, std::int64_t epochs,
                std::int64_t word_ngrams, std::int64_t buckets, std::int64_t minn,
                std::int64_t maxn, std::int64_t min_count, const std::string& loss,
                std::int64_t negative, std::int64_t threads, std::uint64_t seed,
                const std::string& label_prefix, const py::object& progress,
                double progress_interval, const std::string& pretrained_vectors,
                const std::string& autotune_validation, const std::string& autotune_metric,
                std::int64_t autotune_predictions, double autotune_duration,
                const std::vector<std::string>& autotune_fixed,
                const std::string& autotune_model_size) {
  ClassifierOptions o;
  o.dim = dim;
  o.lr = lr;
  o.epochs = epochs;
  o.word_ngrams = word_ngrams;
  o.buckets = buckets;
  o.minn = minn;
  o.maxn = maxn;
  o.min_count = min_count;
  o.loss = models::parse_classifier_loss(loss);
  o.negative = negative;
  o.threads = threads;
  o.seed = seed;
  o.label_prefix = label_prefix;
  o.progress_interval = progress_interval;
  o.pretrained_vectors = pretrained_vectors;
  o.validate();  // before reading the file: a bad option is reported at once
  models::AutotuneOptions tune;
  const bool autotune = !autotune_validation.empty();
  if (autotune) {
    tune.duration_seconds = autotune_duration;
    tune.predictions = autotune_predictions;
    tune.metric = models::AutotuneMetric::parse(autotune_metric, label_prefix);
    tune.progress_interval = progress_interval;
    // The options the caller gave are not searched (fastText's rule).
    for (const std::string& name : autotune_fixed) {
      bool models::AutotuneSearch::*field = nullptr;
      if (name == "epochs") field = &models::AutotuneSearch::epochs;
      if (name == "lr") field = &models::AutotuneSearch::lr;
      if (name == "dim") field = &models::AutotuneSearch::dim;
      if (name == "word_ngrams") field = &models::AutotuneSearch::word_ngrams;
      if (name == "buckets") field = &models::AutotuneSearch::buckets;
      if (name == "minn") field = &models::AutotuneSearch::minn;
      if (name == "maxn") field = &models::AutotuneSearch::maxn;
      if (name == "loss") field = &models::AutotuneSearch::loss;
      if (field == nullptr) throw ValueError("autotune: no option '" + name + "' to fix");
      tune.search.*field = false;
    }
    if (!autotune_model_size.empty()) {
      tune.model_size = models::parse_model_size(autotune_model_size);
    }
    tune.validate();
  } else if (!autotune_model_size.empty()) {
    throw ValueError(
        "autotuneModelSize needs autotuneValidationFile: the model size is a target of "
        "fastText's autotune");
  }
  const auto on_progress = training_progress(progress);
  auto on_autotune_progress = [&progress](const models::AutotuneProgress& p) {
    py::gil_scoped_acquire gil;
    raise_pending_signal();
    if (progress.is_none()) return;
    py::dict report;
    report["autotune"] = true;
    report["fraction"] = p.fraction;
    report["trials"] = p.trials;
    report["best_score"] = p.best ? py::object(py::float_(*p.best)) : py::none();
    report["elapsed_seconds"] = p.elapsed_seconds;
    report["eta_seconds"] = p.eta_seconds;
    progress(report);
  };
  std::optional<TextClassifier> model;
  std::optional<models::ModelSizeFit> fit;
  {
    py::gil_scoped_release release;
    const std::vector<LabelledExample> data = read_labelled_file(path, label_prefix);
    std::optional<models::AutotuneResult> tuned;
    if (autotune) {
      // The search, then the final model with the best options on the same file (fastText's
      // rule).
      const std::vector<LabelledExample> validation =
          read_labelled_file(autotune_validation, label_prefix);
      tuned = models::autotune_classifier(data, validation, o, tune, on_autotune_progress);
      o = tuned->best;
    }
    model.emplace(TextClassifier::train(data, o, nullptr, on_progress));
    if (tune.model_size > 0) {
      // fastText's autotune with a model size returns the final model quantized (as `classify
      // train --autotune-modelsize` writes it), with the best trial's dsub.
      fit = models::fit_model_size(*model, data, tuned->best_quantization->dsub, tune.model_size,
                                   models::FastTextQuantizeOptions{}.seed, on_progress,
                                   progress_interval);
      if (!fit) {
        throw Error(
            "autotune: the final model, trained again with the best options, does not "
            "fit " +
            std::to_string(tune.model_size) +
            " bytes (with more than one thread training differs from run to run): raise "
            "autotuneModelSize or train with thread=1");
      }
    }
  }
  py::object quantized = py::none();
  if (fit) quantized = py::cast(models::FastTextModel(std::move(fit->file)));
  return py::make_tuple(std::move(*model), quantized);
}

}  // namespace

py::dict evaluation_dict(const models::ClassifierEvaluation& r,
                         const std::function<std::string(std::size_t)>& label_name) {
  py::dict per_label;
  for (std::size_t i = 0; i < r.per_label.size(); ++i) {
    const models::LabelMetrics& l = r.per_label[i];
    per_label[py::str(label_name(i))] = py::make_tuple(l.gold, l.predicted, l.correct);
  }
  py::dict out;
  out["examples"] = r.examples;
  out["precision"] = r.precision();
  out["recall"] = r.recall();
  out["per_label"] = per_label;
  out["unseen_labels"] = r.unseen_labels;
  return out;
}

void bind_classifier(py::module_& m) {
  py::class_<TextClassifier>(m, "TextClassifier",
                             "A trained fastText-style text classifier (embedkit's names; "
                             "embedkit.train_supervised gives fastText's).")
      .def_static("train", &train, py::arg("path"), py::arg("dim"), py::arg("lr"),
                  py::arg("epochs"), py::arg("word_ngrams"), py::arg("buckets"), py::arg("minn"),
                  py::arg("maxn"), py::arg("min_count"), py::arg("loss"), py::arg("negative"),
                  py::arg("threads"), py::arg("seed"), py::arg("label_prefix"),
                  py::arg("progress") = py::none(), py::arg("progress_interval") = 0.1,
                  py::arg("pretrained_vectors") = "", py::arg("autotune_validation") = "",
                  py::arg("autotune_metric") = "f1", py::arg("autotune_predictions") = 1,
                  py::arg("autotune_duration") = 300.0,
                  py::arg("autotune_fixed") = std::vector<std::string>{},
                  py::arg("autotune_model_size") = "",
                  "Trains on a labelled file in fastText's format, with the GIL released. "
                  "`progress` (or None) is called with a dict about every progress_interval "
                  "seconds; Ctrl-C raises KeyboardInterrupt within that time. With "
                  "autotune_validation, the options are first searched on that file "
                  "(models::autotune_classifier; those named in autotune_fixed are kept) and "
                  "the model is trained with the best. Returns (model, quantized): with "
                  "autotune_model_size (fastText's '2M'), the search quantizes its candidates "
                  "to fit it and `quantized` is the final model's .ftz as a FastTextModel "
                  "(models::fit_model_size); else None.")
      .def_static(
          "load", [](const std::string& path) { return TextClassifier::load(path); },
          py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Loads a model saved by save().")
      .def(
          "save", [](const TextClassifier& self, const std::string& path) { self.save(path); },
          py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Saves the model in one file (safetensors), atomically.")
      .def(
          "predict",
          [](const TextClassifier& self, const std::vector<std::string>& lines, std::int64_t k,
             double threshold) {
            std::vector<std::vector<models::LabelScore>> scores(lines.size());
            {
              py::gil_scoped_release release;
              for (std::size_t i = 0; i < lines.size(); ++i) {
                scores[i] = self.predict(words_of(self, lines[i]), k, threshold);
              }
            }
            py::list out;
            for (const auto& line : scores) {
              py::list labels;
              py::array_t<double> probabilities(static_cast<py::ssize_t>(line.size()));
              double* p = probabilities.mutable_data();
              for (std::size_t j = 0; j < line.size(); ++j) {
                labels.append(shown_label(self, line[j].label));
                p[j] = line[j].probability;
              }
              out.append(py::make_tuple(labels, probabilities));
            }
            return out;
          },
          py::arg("lines"), py::arg("k"), py::arg("threshold"),
          "For each line, its k most probable labels (prefixed) and their probabilities.")
      .def(
          "evaluate",
          [](const TextClassifier& self, const std::string& path, std::int64_t k,
             double threshold) {
            models::ClassifierEvaluation r;
            {
              py::gil_scoped_release release;
              r = self.evaluate(read_labelled_file(path, self.options().label_prefix), k,
                                threshold);
            }
            return evaluation_dict(
                r, [&](std::size_t i) { return shown_label(self, static_cast<std::int64_t>(i)); });
          },
          py::arg("path"), py::arg("k"), py::arg("threshold"),
          "fastText's test over a labelled file: examples, precision@k, recall@k, and per "
          "label (gold, predicted, correct).")
      .def(
          "word_vector",
          [](const TextClassifier& self, const std::string& word) {
            const std::int64_t dim = self.options().dim;
            py::array_t<float> out(dim);
            float* v = out.mutable_data();
            std::fill(v, v + dim, 0.0f);
            // fastText's getWordVector: the mean of the word's row and its n-gram rows.
            const std::vector<std::int64_t> ids = self.word_input_ids(word);
            if (ids.empty()) return out;
            const float* table = self.input_table().data<float>();
            for (const std::int64_t id : ids) {
              for (std::int64_t j = 0; j < dim; ++j) v[j] += table[id * dim + j];
            }
            const float scale = 1.0f / static_cast<float>(ids.size());
            for (std::int64_t j = 0; j < dim; ++j) v[j] *= scale;
            return out;
          },
          py::arg("word"),
          "The word's vector: the mean of its input row and (with subwords) its character "
          "n-gram rows; zeros for a word that has none.")
      .def("sentence_vector", &hidden_of, py::arg("line"),
           "The mean of the input rows the line looks up (words, \"</s>\", n-gram buckets).")
      .def_property_readonly(
          "words", [](const TextClassifier& self) { return self.dictionary().words().texts(); })
      .def_property_readonly(
          "word_counts",
          [](const TextClassifier& self) { return self.dictionary().words().counts(); })
      .def_property_readonly("labels",
                             [](const TextClassifier& self) {
                               std::vector<std::string> out;
                               for (std::int64_t i = 0; i < self.dictionary().labels().size();
                                    ++i) {
                                 out.push_back(shown_label(self, i));
                               }
                               return out;
                             })
      .def_property_readonly(
          "label_counts",
          [](const TextClassifier& self) { return self.dictionary().labels().counts(); })
      .def_property_readonly("dim", [](const TextClassifier& self) { return self.options().dim; })
      .def_property_readonly("loss",
                             [](const TextClassifier& self) {
                               return models::classifier_loss_name(self.options().loss);
                             })
      .def_property_readonly("word_ngrams",
                             [](const TextClassifier& self) { return self.options().word_ngrams; })
      .def_property_readonly("minn", [](const TextClassifier& self) { return self.options().minn; })
      .def_property_readonly("maxn", [](const TextClassifier& self) { return self.options().maxn; })
      .def_property_readonly("epochs",
                             [](const TextClassifier& self) { return self.options().epochs; })
      .def_property_readonly("lr", [](const TextClassifier& self) { return self.options().lr; })
      .def_property_readonly("threads",
                             [](const TextClassifier& self) { return self.options().threads; })
      .def_property_readonly("seed", [](const TextClassifier& self) { return self.options().seed; })
      .def_property_readonly("label_prefix",
                             [](const TextClassifier& self) { return self.options().label_prefix; })
      .def_property_readonly(
          "input_matrix", [](const TextClassifier& self) { return to_array(self.input_table()); },
          "The input table [words (+ buckets), dim], shared with the model (no copy).")
      .def_property_readonly(
          "output_matrix", [](const TextClassifier& self) { return to_array(self.output_table()); },
          "The output table [labels (hs: inner nodes), dim], shared with the model (no copy).");
}

}  // namespace embedkit::python
