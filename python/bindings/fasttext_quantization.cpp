// fastText's quantize for Python (fastText's model.quantize, which embedkit.fasttext wraps): a
// classifier becomes a fastText model file (FastTextModel::from_classifier) and that file is
// quantized by models::quantize_fasttext_model, as `embedkit quantize` does, into a new
// FastTextModel; the model it came from is left as it was.
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/fasttext_retraining.hpp"
#include "embedkit/models/text_classifier.hpp"

namespace embedkit::python {

namespace {

using models::FastTextModel;

FastTextModel quantize(const FastTextModel& model, std::int64_t dsub, bool qnorm, bool qout,
                       std::int64_t cutoff, const std::string& retrain_input,
                       const std::string& label_prefix, std::int64_t epochs, double lr,
                       std::int64_t threads, std::uint64_t seed, const py::object& progress,
                       double progress_interval) {
  if (cutoff < 0) throw ValueError("cutoff must be >= 0, got " + std::to_string(cutoff));
  models::FastTextQuantizeOptions options;
  options.dsub = dsub;
  options.qnorm = qnorm;
  options.qout = qout;
  // fastText's quantize prunes only below the input rows (and so retrains only then): cutoff 0,
  // or at or above the rows, keeps every row.
  options.cutoff = cutoff < model.file().input_rows() ? cutoff : 0;
  models::FastTextRetraining retraining;
  retraining.epochs = epochs;
  retraining.lr = lr;
  retraining.threads = threads;
  retraining.seed = seed;
  retraining.label_prefix = label_prefix;
  retraining.on_progress = training_progress(progress);
  retraining.progress_interval = progress_interval;
  const bool retrain = !retrain_input.empty() && options.cutoff > 0;
  py::gil_scoped_release release;
  std::vector<models::LabelledExample> lines;
  if (retrain) {
    lines = read_labelled_file(retrain_input, label_prefix);
    retraining.lines = &lines;
  }
  return FastTextModel(
      models::quantize_fasttext_model(model.file(), options, retrain ? &retraining : nullptr));
}

}  // namespace

void bind_fasttext_quantization(py::module_& m) {
  m.def(
      "fasttext_model_of_classifier",
      [](const models::TextClassifier& classifier) {
        return FastTextModel(FastTextModel::from_classifier(classifier));
      },
      py::arg("classifier"), py::call_guard<py::gil_scoped_release>(),
      "The classifier as a fastText model (what `embedkit convert --to fasttext-bin` writes). "
      "ValueError for what fastText would read differently: the hs loss, lowercase, "
      "end_of_line off with word n-grams.");
  m.def("quantize_fasttext_model", &quantize, py::arg("model"), py::arg("dsub"), py::arg("qnorm"),
        py::arg("qout"), py::arg("cutoff"), py::arg("retrain_input"), py::arg("label_prefix"),
        py::arg("epochs"), py::arg("lr"), py::arg("threads"), py::arg("seed"),
        py::arg("progress") = py::none(), py::arg("progress_interval") = 0.1,
        "fastText's quantize of a model (models::quantize_fasttext_model, with the GIL "
        "released): a new quantized FastTextModel, the model left as it was. cutoff 0, or at "
        "or above the input rows, keeps every row (fastText's rule); with a cutoff below them "
        "and retrain_input (a labelled file whose labels carry label_prefix), the kept rows are "
        "trained again on it for `epochs` at `lr` on `threads` threads, seeded by `seed`, "
        "before the quantization; `progress` as TextClassifier.train's. ValueError for what "
        "quantize_fasttext_model refuses (already quantized, dsub outside [1, dim], ...).");
}

}  // namespace embedkit::python
