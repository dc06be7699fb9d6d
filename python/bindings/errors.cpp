// embedkit's exceptions as Python's, with the same message (docs/python.md, "Errors"):
// IndexError -> IndexError (the message names the position), KeyError -> KeyError, ValueError ->
// ValueError, TypeError -> TypeError, IoError -> OSError (the subclass of the failed call's
// errno, or FileNotFoundError when the file is missing), any other embedkit::Error -> RuntimeError.
// Every embedkit call validates before it writes, so a Python exception from embedkit means nothing
// changed.
#include <pybind11/pybind11.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

#include "arrays.hpp"
#include "bindings.hpp"
#include "embedkit/core/error.hpp"

namespace embedkit::python {

namespace {

py::handle copy_warning_class;

void set_error(PyObject* type, const std::exception& e) {
  PyErr_SetString(type, e.what());
}

// The OSError subclass Python itself raises for a system call's errno (PEP 3151), for the
// errors a file's creation or writing can meet; OSError for the rest (ENOSPC, EROFS, EIO).
PyObject* os_error_type(int error_number) {
  switch (error_number) {
    case ENOENT:
      return PyExc_FileNotFoundError;
    case EACCES:
    case EPERM:
      return PyExc_PermissionError;
    case EEXIST:
      return PyExc_FileExistsError;
    case EISDIR:
      return PyExc_IsADirectoryError;
    case ENOTDIR:
      return PyExc_NotADirectoryError;
    default:
      return PyExc_OSError;
  }
}

// An IoError that carries the failed call's errno: the subclass it names, with `errno` set and
// the message unchanged. One that does not (a malformed file): FileNotFoundError when the path
// does not exist, else OSError. (Inferring "missing" from the path alone made a write error on
// a new output path, a full disk or a read-only directory, a FileNotFoundError.)
void set_io_error(const IoError& e) {
  if (e.error_number() == 0) {
    std::error_code ec;
    const bool missing = !e.path().empty() && !std::filesystem::exists(e.path(), ec) && !ec;
    set_error(missing ? PyExc_FileNotFoundError : PyExc_OSError, e);
    return;
  }
  PyObject* type = os_error_type(e.error_number());
  py::object error = py::reinterpret_steal<py::object>(PyObject_CallFunction(type, "s", e.what()));
  if (!error) return;  // the call set Python's error
  error.attr("errno") = e.error_number();
  PyErr_SetObject(type, error.ptr());
}

}  // namespace

py::handle copy_warning() {
  return copy_warning_class;
}

void raise_pending_signal() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

void bind_errors(py::module_& m) {
  copy_warning_class = PyErr_NewExceptionWithDoc(
      "embedkit.CopyWarning",
      "An input was not C-contiguous, so embedkit copied it before reading it.", PyExc_UserWarning,
      nullptr);
  if (copy_warning_class.ptr() == nullptr) throw py::error_already_set();
  m.attr("CopyWarning") = copy_warning_class;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const KeyError& e) {
      // Python's KeyError carries the key; str() of it is the key's repr, so the message is
      // passed as the one argument, as dict lookups do with the key.
      PyErr_SetObject(PyExc_KeyError, py::str(e.what()).ptr());
    } catch (const IndexError& e) {
      set_error(PyExc_IndexError, e);
    } catch (const ValueError& e) {
      set_error(PyExc_ValueError, e);
    } catch (const TypeError& e) {
      set_error(PyExc_TypeError, e);
    } catch (const IoError& e) {
      set_io_error(e);
    } catch (const Error& e) {
      set_error(PyExc_RuntimeError, e);
    }
  });
}

}  // namespace embedkit::python
