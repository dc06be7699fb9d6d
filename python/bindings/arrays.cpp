#include "arrays.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/error.hpp"

namespace embedkit::python {

namespace {

std::string where(std::string_view what) {
  return std::string(what) + ": ";
}

std::string dtype_text(const py::dtype& dt) {
  return py::str(static_cast<py::handle>(dt)).cast<std::string>();
}

bool is_ndarray(py::handle obj) {
  return py::isinstance<py::array>(obj);
}

bool is_torch_tensor(py::handle obj) {
  const auto module = py::str(py::type::of(obj).attr("__module__")).cast<std::string>();
  return module == "torch" || module.rfind("torch.", 0) == 0;
}

// Objects looked up once: they serve every call that takes a tensor, where an import or an
// attribute lookup would cost a good part of the call. Never freed (they must outlive the
// interpreter's teardown order).
py::handle numpy_from_dlpack() {
  static const py::object* const function =
      new py::object(py::module_::import("numpy").attr("from_dlpack"));
  return *function;
}

// torch.bfloat16 and torch.int16; only called once a torch tensor was given (torch is loaded).
std::pair<py::handle, py::handle> torch_bfloat16_and_int16() {
  static const py::object* const torch = new py::object(py::module_::import("torch"));
  static const py::object* const bfloat16 = new py::object(torch->attr("bfloat16"));
  static const py::object* const int16 = new py::object(torch->attr("int16"));
  return {*bfloat16, *int16};
}

// numpy.from_dlpack on a PyTorch tensor (or any producer), readying torch's special cases.
ArrayArg from_dlpack(py::handle obj, std::string_view what) {
  py::object tensor = py::reinterpret_borrow<py::object>(obj);
  const bool torch = is_torch_tensor(tensor);
  ArrayArg out;
  if (torch) {
    if (tensor.attr("requires_grad").cast<bool>()) tensor = tensor.attr("detach")();
    const auto [bfloat16, int16] = torch_bfloat16_and_int16();
    if (py::object(tensor.attr("dtype")).ptr() == bfloat16.ptr()) {
      tensor = tensor.attr("view")(int16);
      out.bfloat16 = true;
    }
  }
  py::array view;
  try {
    view = numpy_from_dlpack()(tensor);
  } catch (py::error_already_set& e) {
    throw TypeError(where(what) + "cannot be read without a copy through DLPack (" +
                    std::string(e.what()) + ")");
  }
  if (!torch) {
    out.array = view;
    return out;
  }
  // NumPy marks every DLPack import read-only (the protocol carries no such flag), but a
  // PyTorch tensor is writeable, and a table given as one must be written in place (max_norm,
  // training) as torch's own t.numpy() allows. The same memory, writeable, kept alive by the
  // tensor (the array's base).
  std::vector<py::ssize_t> shape(view.shape(), view.shape() + view.ndim());
  std::vector<py::ssize_t> strides(view.strides(), view.strides() + view.ndim());
  out.array = py::array(view.dtype(), shape, strides, view.data(), tensor);
  out.torch_tensor = tensor;
  return out;
}

// A table embedkit keeps (a module's weight, packed rows) points into the tensor's storage, and
// PyTorch's resize_ to a larger size reallocates that storage in place and frees the old
// buffer, which the table would then read and write. DLPack's export does not prevent it;
// torch's own t.numpy() does, by marking the storage not resizable for good (resize_ then
// raises "Trying to resize storage that is not resizable"), so a shared tensor is marked the
// same way, through t.numpy().
void keep_storage_size(const ArrayArg& arg, std::string_view what) {
  if (arg.torch_tensor.is_none()) return;
  try {
    arg.torch_tensor.attr("numpy")();
  } catch (py::error_already_set& e) {
    throw TypeError(where(what) +
                    "cannot be shared: PyTorch refuses to view it as a NumPy array (" +
                    std::string(e.what()) + ")");
  }
}

std::shared_ptr<const void> keep_alive(const py::array& array) {
  // Released when the last Tensor sharing the view goes, perhaps on a thread that does not hold
  // the GIL (a binding releases it while it computes).
  return std::shared_ptr<const void>(new py::object(array), [](const void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<const py::object*>(p);
  });
}

Shape shape_of(const py::array& array) {
  Shape shape;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) shape.push_back(array.shape(d));
  return shape;
}

Tensor view_of(const py::array& array, DType dtype) {
  return Tensor::from_blob(const_cast<void*>(array.data()), shape_of(array), dtype,
                           keep_alive(array));
}

bool c_contiguous(const py::array& array) {
  return (array.flags() & py::array::c_style) != 0;
}

}  // namespace

ArrayArg as_array(py::handle obj, std::string_view what) {
  if (obj.is_none()) throw TypeError(where(what) + "expected an array, got None");
  if (is_ndarray(obj)) return {py::reinterpret_borrow<py::array>(obj), false, py::none()};
  if (py::hasattr(obj, "__dlpack__")) return from_dlpack(obj, what);
  return {py::module_::import("numpy").attr("asarray")(obj), false, py::none()};
}

DType dtype_of(const py::array& array, bool bfloat16, std::string_view what) {
  const py::dtype dt = array.dtype();
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (bfloat16) {
    if ((kind == 'i' || kind == 'u') && size == 2) return DType::BFloat16;
    throw TypeError(where(what) + "bfloat16 data must be given as 16-bit integer bits, got " +
                    dtype_text(dt));
  }
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 2) return DType::Float16;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  throw TypeError(where(what) + "dtype " + dtype_text(dt) +
                  " is not one embedkit holds (float32, float16, bfloat16, int32, int64)");
}

Tensor borrow_table(py::handle obj, std::string_view what, bool bfloat16) {
  ArrayArg arg = as_array(obj, what);
  const DType dtype = dtype_of(arg.array, bfloat16 || arg.bfloat16, what);
  if (!is_floating(dtype)) {
    throw TypeError(where(what) + "a table must hold floating-point values, got " +
                    std::string(dtype_name(dtype)));
  }
  if (!c_contiguous(arg.array)) {
    throw ValueError(where(what) +
                     "a table must be C-contiguous, because embedkit updates it in place and a "
                     "copy would no longer be shared (pass numpy.ascontiguousarray(w) and keep "
                     "that array)");
  }
  if (!arg.array.writeable()) {
    throw ValueError(where(what) + "a table must be writeable (embedkit updates it in place)");
  }
  keep_storage_size(arg, what);
  return view_of(arg.array, dtype);
}

BorrowedBytes borrow_byte_rows(py::handle obj, std::string_view what) {
  ArrayArg arg = as_array(obj, what);
  const py::dtype dt = arg.array.dtype();
  if (arg.bfloat16 || dt.kind() != 'u' || dt.itemsize() != 1) {
    throw TypeError(where(what) + "expected packed uint8 rows, got " +
                    (arg.bfloat16 ? std::string("bfloat16") : dtype_text(dt)));
  }
  if (arg.array.ndim() != 2) {
    throw ValueError(where(what) + "packed rows must be 2-D [num_rows, row_bytes], got " +
                     std::to_string(arg.array.ndim()) + "-D");
  }
  if (!c_contiguous(arg.array)) {
    throw ValueError(where(what) +
                     "packed rows must be C-contiguous: they are shared, not copied (pass "
                     "numpy.ascontiguousarray(rows) and keep that array)");
  }
  BorrowedBytes out;
  out.data = static_cast<const std::uint8_t*>(arg.array.data());
  out.rows = arg.array.shape(0);
  out.cols = arg.array.shape(1);
  keep_storage_size(arg, what);
  out.owner = keep_alive(arg.array);
  return out;
}

Tensor input_tensor(py::handle obj, std::string_view what, bool bfloat16) {
  if (obj.is_none()) return Tensor();
  ArrayArg arg = as_array(obj, what);
  const DType dtype = dtype_of(arg.array, bfloat16 || arg.bfloat16, what);
  py::array array = arg.array;
  if (!c_contiguous(array)) {
    const std::string message = std::string(what) +
                                ": not C-contiguous, so embedkit copied it "
                                "(numpy.ascontiguousarray avoids the copy)";
    if (PyErr_WarnEx(copy_warning().ptr(), message.c_str(), 1) != 0) {
      throw py::error_already_set();
    }
    array = py::module_::import("numpy").attr("ascontiguousarray")(array);
  }
  return view_of(array, dtype);
}

py::array to_array(const Tensor& tensor) {
  py::dtype dt;
  switch (tensor.dtype()) {
    case DType::Float32:
      dt = py::dtype::of<float>();
      break;
    case DType::Float16:
      dt = py::dtype("float16");
      break;
    case DType::BFloat16:
      dt = py::dtype::of<std::int16_t>();
      break;
    case DType::Int32:
      dt = py::dtype::of<std::int32_t>();
      break;
    case DType::Int64:
      dt = py::dtype::of<std::int64_t>();
      break;
  }
  std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  // The capsule owns a Tensor handle that shares the storage: the array keeps it alive.
  auto* held = new Tensor(tensor);
  py::capsule owner(held, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(dt, shape, held->raw_data(), owner);
}

}  // namespace embedkit::python
