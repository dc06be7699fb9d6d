// The parts of the compiled module embedkit._embedkit: one function per file of bindings/, each
// adding its classes and functions to the module (module.cpp calls them in order). A binding
// file includes only this header, arrays.hpp, nn_args.hpp (the nn bindings' shared arguments)
// and the library's public headers.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/matrix_factorization.hpp"
#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "embedkit/models/word2vec.hpp"

namespace embedkit::python {

namespace py = pybind11;

// errors.cpp: embedkit's exceptions become Python's (IndexError, ValueError, KeyError,
// TypeError, OSError) and the CopyWarning class.
void bind_errors(py::module_& m);
// With the GIL held, from a training's callback: lets Python handle a pending signal and, when
// that raises (Ctrl-C: KeyboardInterrupt), throws it as py::error_already_set, which stops the
// training (its threads are joined) and reaches the caller as the Python exception.
void raise_pending_signal();
// nn.cpp: Embedding, EmbeddingBag and the functional forms, forward and backward.
void bind_nn(py::module_& m);
// quantized.cpp: row-wise quantized tables (int8, int4, int2), their bags and lookups.
void bind_quantized(py::module_& m);
// optim.cpp: the optimizers and fused_backward_step.
void bind_optim(py::module_& m);
// vectors.cpp: KeyedVectors and the vector file formats.
void bind_vectors(py::module_& m);
// word2vec.cpp: word2vec training.
void bind_word2vec(py::module_& m);
// fasttext_model.cpp: fastText model files, queried as fastText does (before word2vec, whose
// training returns one).
void bind_fasttext_model(py::module_& m);
// classifier.cpp: the text classifier.
void bind_classifier(py::module_& m);
// A labelled file in fastText's format (classifier.cpp). A file that cannot be opened stays an
// IoError (OSError, FileNotFoundError when missing); a file that opens but is not labelled text
// (a line without a label or without words, no labelled line at all) is a ValueError, as
// Python's parsers report bad contents.
std::vector<models::LabelledExample> read_labelled_file(const std::string& path,
                                                        const std::string& label_prefix);
// A classifier's test over a labelled file as a dict, the shape fastText's test reports
// (classifier.cpp): examples, precision, recall, unseen_labels, and per_label: a label's name,
// `label_name(i)` for label i, to its (gold, predicted, correct) counts.
py::dict evaluation_dict(const models::ClassifierEvaluation& r,
                         const std::function<std::string(std::size_t)>& label_name);
// A training's progress callback (classifier.cpp) for `progress`, a Python callable or None:
// called with the GIL released, it takes it, raises a pending Ctrl-C as KeyboardInterrupt
// (which stops the training) and calls `progress` with a dict of the report. It refers to
// `progress`, which must outlive it.
std::function<void(const models::ClassifierProgress&)> training_progress(
    const py::object& progress);
// fasttext_quantization.cpp: fastText's quantize of a classifier or a fastText model (after
// classifier.cpp, whose TextClassifier it takes).
void bind_fasttext_quantization(py::module_& m);
// recommender.cpp: the recommender.
void bind_recommender(py::module_& m);
// dist.cpp: training across MPI processes, for the comm= arguments (python/embedkit/_mpi.py).
// has_mpi: whether this module was built with MPI (the dist layer).
void bind_dist(py::module_& m);
// Called with the GIL held, `comm` an mpi4py intracommunicator (checked by _mpi.communicator);
// collective over it; train with the GIL released (dist::train_word2vec,
// dist::train_recommender: every rank gets the result). RuntimeError in a module built without
// MPI.
models::Word2VecResult train_word2vec_across(
    const py::object& comm, const std::filesystem::path& corpus,
    const models::Word2VecOptions& options, std::int64_t syncs_per_epoch,
    std::int64_t column_batch_words,  // > 0: over column shards, not averaged
    const std::function<void(const models::Word2VecProgress&)>& on_progress);
models::Recommender train_recommender_across(
    const py::object& comm, const std::vector<models::Rating>& ratings,
    const models::MfOptions& options,
    const std::function<void(const models::MfEpochReport&)>& on_epoch);

}  // namespace embedkit::python
