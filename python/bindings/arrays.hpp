// Arrays across the boundary without copies: NumPy arrays (the buffer protocol) and DLPack
// tensors (PyTorch's) in, NumPy arrays over embedkit's own buffers out.
//
// The rules every binding follows (docs/python.md, "Arrays"):
// - A table (a weight the caller gives) is borrowed: the Tensor is a view of the caller's memory
//   and holds a reference to the array, so freeing the array on the Python side cannot free the
//   table. It must be C-contiguous and writeable, because embedkit writes it in place (training,
//   max_norm); a copy would silently stop sharing, so anything else is a ValueError.
// - A read-only input (ids, offsets, per-sample weights, gradients) is borrowed when it is
//   C-contiguous; otherwise it is copied once and embedkit.CopyWarning (a UserWarning) says so.
// - An output is a NumPy array over the Tensor's storage: the array keeps it alive, nothing is
//   copied.
// - NumPy has no bfloat16: a bfloat16 tensor crosses as its int16 bit patterns (PyTorch's
//   `t.view(torch.int16)`), with the dtype said explicitly on the way in.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::python {

namespace py = pybind11;

// Any array-like as a NumPy array, without copying where the object allows it: an ndarray as
// is; an object with __dlpack__ (a PyTorch tensor) through numpy.from_dlpack, after detach()
// when it requires grad, and a bfloat16 PyTorch tensor as its int16 bits (`bfloat16` true);
// anything else through numpy.asarray (lists, scalars).
struct ArrayArg {
  py::array array;
  bool bfloat16 = false;
  py::object torch_tensor;  // the PyTorch tensor `array` views (as read), else None
};
ArrayArg as_array(py::handle obj, std::string_view what);

// The embedkit dtype of an array: float32, float16, int32, int64, or bfloat16 when `bfloat16`
// (int16 bits). TypeError naming `what` for any other.
DType dtype_of(const py::array& array, bool bfloat16, std::string_view what);

// A table shared with the caller (see above). `bfloat16`: an int16 array holds bfloat16 bits.
// TypeError when it is not floating point; ValueError when not C-contiguous or not writeable.
Tensor borrow_table(py::handle obj, std::string_view what, bool bfloat16 = false);

// A read-only input (see above); an undefined Tensor for None.
Tensor input_tensor(py::handle obj, std::string_view what, bool bfloat16 = false);

// A 2-D uint8 array of bytes shared with the caller, read only (a packed quantized table:
// PyTorch's [rows, row_bytes] uint8 tensor). Borrowed as a table is, never copied: it must be
// C-contiguous (ValueError), uint8 (TypeError) and 2-D (ValueError), but need not be writeable.
// `owner` holds a reference to the array.
struct BorrowedBytes {
  const std::uint8_t* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::shared_ptr<const void> owner;
};
BorrowedBytes borrow_byte_rows(py::handle obj, std::string_view what);

// A NumPy array over the tensor's storage; bfloat16 as int16 bits.
py::array to_array(const Tensor& tensor);

// The CopyWarning class (errors.cpp creates it).
py::handle copy_warning();

}  // namespace embedkit::python
