// embedkit._embedkit: the compiled part of the Python package (python/embedkit wraps it).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "embedkit/version.hpp"

PYBIND11_MODULE(_embedkit, m) {
  m.doc() = "embedkit's C++ library, as the Python package embedkit uses it";
  m.attr("__version__") = EMBEDKIT_VERSION_STRING;
  // Errors first: every other part may raise them. nn before optim, whose fused step takes nn's
  // modules; vectors before the models that return KeyedVectors.
  embedkit::python::bind_errors(m);
  embedkit::python::bind_nn(m);
  embedkit::python::bind_quantized(m);
  embedkit::python::bind_optim(m);
  embedkit::python::bind_vectors(m);
  embedkit::python::bind_fasttext_model(m);
  embedkit::python::bind_word2vec(m);
  embedkit::python::bind_classifier(m);
  embedkit::python::bind_fasttext_quantization(m);
  embedkit::python::bind_recommender(m);
  embedkit::python::bind_dist(m);
}
