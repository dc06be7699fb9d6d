// Word2Vec: word2vec training (models::train_word2vec) for embedkit.Word2Vec (python/embedkit/
// word2vec.py), which gives it gensim's names and defaults.
//
// Training runs without the GIL, so Python threads run alongside. The progress callback takes
// the GIL back for each report: it first lets Python run its signal handlers
// (PyErr_CheckSignals), so Ctrl-C raises KeyboardInterrupt inside the callback; that exception,
// or any other the Python callback raises, stops the worker threads and propagates out of
// train_word2vec, and no vectors are returned.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/word2vec.hpp"

namespace embedkit::python {

namespace {

using models::Word2VecOptions;
using models::Word2VecProgress;
using models::Word2VecResult;

py::dict result_dict(Word2VecResult& r) {
  const auto& words = r.dictionary.words();
  py::array_t<std::int64_t> counts(static_cast<py::ssize_t>(words.counts().size()));
  std::copy(words.counts().begin(), words.counts().end(), counts.mutable_data());
  py::dict d;
  d["words"] = py::cast(words.texts());
  d["counts"] = counts;
  d["vectors"] = to_array(r.vectors);  // over the result's buffer, not a copy
  d["corpus_tokens"] = r.corpus.tokens;
  d["corpus_distinct"] = r.corpus.distinct;
  d["corpus_bytes"] = r.corpus.bytes;
  d["words_trained"] = r.words_trained;
  d["seconds"] = r.seconds;
  d["words_per_second"] = r.words_per_second;
  d["final_loss"] = r.final_loss;
  return d;
}

py::dict train(const std::filesystem::path& corpus, bool sg, bool hs, std::int64_t vector_size,
               std::int64_t window, std::int64_t negative, double ns_exponent,
               std::int64_t min_count, std::int64_t max_vocab, double sample, std::int64_t epochs,
               double alpha, std::optional<double> min_alpha, std::int64_t workers,
               std::uint64_t seed, double progress_interval, py::object on_progress,
               std::int64_t minn, std::int64_t maxn, std::int64_t bucket, bool fasttext_model,
               const py::object& comm, std::int64_t syncs_per_epoch,
               std::int64_t column_batch_words) {
  Word2VecOptions o;
  o.architecture = sg ? models::Word2VecArchitecture::SkipGram : models::Word2VecArchitecture::Cbow;
  o.loss = hs ? models::Word2VecLoss::HierarchicalSoftmax : models::Word2VecLoss::NegativeSampling;
  o.dim = vector_size;
  o.window = window;
  o.negative = negative;
  o.ns_exponent = ns_exponent;
  o.min_count = min_count;
  o.max_vocab = max_vocab;
  o.sample = sample;
  o.epochs = epochs;
  o.alpha = alpha;
  o.min_alpha = min_alpha;
  o.threads = workers;
  o.seed = seed;
  o.progress_interval = progress_interval;
  o.minn = minn;
  o.maxn = maxn;
  o.bucket = bucket;
  // Before the GIL is released: a bad option is a ValueError at once (across ranks,
  // dist::train_word2vec checks the options on every rank and the ranks agree).
  if (comm.is_none()) o.validate();

  // Called by train_word2vec's calling thread (this one), without the GIL.
  auto report = [&on_progress](const Word2VecProgress& p) {
    py::gil_scoped_acquire gil;
    raise_pending_signal();
    if (!on_progress.is_none()) on_progress(p);
  };
  std::optional<Word2VecResult> result;
  if (!comm.is_none()) {
    result.emplace(
        train_word2vec_across(comm, corpus, o, syncs_per_epoch, column_batch_words, report));
  } else {
    py::gil_scoped_release release;
    result.emplace(models::train_word2vec(corpus, o, report));
  }
  py::dict d = result_dict(*result);
  if (fasttext_model) {
    // The fastText model of this training (with subwords, its whole input table: shared, not
    // copied), which answers the vector of any word.
    std::optional<models::FastTextModel> model;
    {
      py::gil_scoped_release release;
      model.emplace(models::FastTextModel::from_word2vec(*result, o));
    }
    d["fasttext_model"] = py::cast(std::move(*model));
  }
  return d;
}

}  // namespace

void bind_word2vec(py::module_& m) {
  py::class_<Word2VecProgress>(m, "Word2VecProgress",
                               "A progress report of word2vec training (read-only).")
      .def_readonly("fraction", &Word2VecProgress::fraction,
                    "Fraction of all epochs' words done, in [0, 1].")
      .def_readonly("words", &Word2VecProgress::words,
                    "Corpus words processed so far, all epochs (before subsampling).")
      .def_readonly("words_per_second", &Word2VecProgress::words_per_second,
                    "Corpus words per second since training started.")
      .def_readonly("loss", &Word2VecProgress::loss,
                    "Mean loss per prediction since the previous report.")
      .def_readonly("alpha", &Word2VecProgress::alpha, "The current learning rate.")
      .def_readonly("elapsed_seconds", &Word2VecProgress::elapsed_seconds,
                    "Seconds since training started (the counting pass excluded).")
      .def_readonly("eta_seconds", &Word2VecProgress::eta_seconds, "Estimated seconds left.")
      .def("__repr__", [](const Word2VecProgress& p) {
        return py::str(
                   "Word2VecProgress(fraction={:.4f}, words={}, words_per_second={:.0f}, "
                   "loss={:.4f}, alpha={:.6f}, elapsed_seconds={:.2f}, eta_seconds={:.2f})")
            .format(p.fraction, p.words, p.words_per_second, p.loss, p.alpha, p.elapsed_seconds,
                    p.eta_seconds);
      });

  m.def("train_word2vec", &train, py::arg("corpus"), py::kw_only(), py::arg("sg"), py::arg("hs"),
        py::arg("vector_size"), py::arg("window"), py::arg("negative"), py::arg("ns_exponent"),
        py::arg("min_count"), py::arg("max_vocab"), py::arg("sample"), py::arg("epochs"),
        py::arg("alpha"), py::arg("min_alpha"), py::arg("workers"), py::arg("seed"),
        py::arg("progress_interval"), py::arg("on_progress") = py::none(), py::arg("minn") = 0,
        py::arg("maxn") = 0, py::arg("bucket") = 2000000, py::arg("fasttext_model") = false,
        py::arg("comm") = py::none(), py::arg("syncs_per_epoch") = 4,
        py::arg("column_batch_words") = 1000,
        R"doc(Trains word2vec vectors on a text corpus file (plain or gzip, one sentence a line,
whitespace-separated tokens); the engine under embedkit.Word2Vec, which users call instead.

Runs without the GIL. on_progress(Word2VecProgress) is called with the GIL about every
progress_interval seconds and once at the end; signals are checked before each call, so Ctrl-C
raises KeyboardInterrupt, and any exception stops training and propagates. maxn > 0 trains
subword vectors (fastText's character n-grams minn..maxn hashed into bucket rows).

Returns a dict: words (list of str, by count, descending), counts (int64 array), vectors
(float32 array [len(words), vector_size]), corpus_tokens, corpus_distinct, corpus_bytes,
words_trained, seconds, words_per_second, final_loss; with fasttext_model=True also
fasttext_model, the FastTextModel of the training (what `embedkit train` writes as a .bin).

comm (an mpi4py intracommunicator, checked by embedkit._mpi) trains across its ranks:
column_batch_words > 0 over column shards (dist::train_word2vec_by_columns: each rank holds some
columns of the tables and walks the whole corpus, the scores of column_batch_words kept words
summed over the ranks at once), 0 by data parallelism (dist::train_word2vec: each rank its byte
range of the corpus, the tables averaged syncs_per_epoch times an epoch); collective;
on_progress is called on rank 0 only, and every rank returns the same vectors.)doc");
}

}  // namespace embedkit::python
