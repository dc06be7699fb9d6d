// The parts of the compiled module embedkit._embedkit: one function per file of bindings/, each
// adding its classes and functions to the module (module.cpp calls them in order). A binding
// file includes only this header, arrays.hpp and the library's public headers.
#pragma once

#include <pybind11/pybind11.h>

namespace embedkit::python {

namespace py = pybind11;

// errors.cpp: embedkit's exceptions become Python's (IndexError, ValueError, KeyError,
// TypeError, OSError) and the CopyWarning class.
void bind_errors(py::module_& m);

}  // namespace embedkit::python
