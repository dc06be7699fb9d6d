// embedkit._embedkit: the compiled part of the Python package (python/embedkit wraps it).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "embedkit/version.hpp"

PYBIND11_MODULE(_embedkit, m) {
  m.doc() = "embedkit's C++ library, as the Python package embedkit uses it";
  m.attr("__version__") = EMBEDKIT_VERSION_STRING;
  embedkit::python::bind_errors(m);
}
