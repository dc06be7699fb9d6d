// The parts of the compiled module embedkit._embedkit: one function per file of bindings/, each
// adding its classes and functions to the module (module.cpp calls them in order). A binding
// file includes only this header, arrays.hpp, nn_args.hpp (the nn bindings' shared arguments)
// and the library's public headers.
#pragma once

#include <pybind11/pybind11.h>

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
// recommender.cpp: the recommender.
void bind_recommender(py::module_& m);

}  // namespace embedkit::python
