// A small dense tensor: one element type, a shape, contiguous row-major storage.
//
// Copies share storage (as torch::Tensor does); clone() makes an independent copy.
// A tensor either owns its buffer or is a view over memory the caller keeps alive
// (from_blob), which is how a caller's table is used without copying it.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/memory.hpp"
#include "embedkit/core/shape.hpp"
#include "embedkit/core/tensor_desc.hpp"

namespace embedkit {

class Tensor {
 public:
  // An undefined tensor (defined() == false): used for "not given" arguments.
  Tensor() = default;

  // A new owned tensor with uninitialized / zero-filled contents.
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32);
  // Same, with a say in where the memory comes from (e.g. huge pages for a large table).
  static Tensor empty(const Shape& shape, DType dtype, const MemoryOptions& memory);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
  // A view over memory the caller owns and keeps alive for the tensor's lifetime.
  static Tensor from_blob(void* data, const Shape& shape, DType dtype);
  // A view over memory that `owner` keeps alive: the tensor and every copy of it hold a
  // reference to `owner`, released with the last of them (how a NumPy array lent to embedkit's
  // Python module stays alive while a table uses it). owns_memory() is false, as for from_blob.
  static Tensor from_blob(void* data, const Shape& shape, DType dtype,
                          std::shared_ptr<const void> owner);
  // A new owned tensor holding a copy of `values`, reshaped to `shape` (default: 1-D).
  template <class T>
  static Tensor from_vector(const std::vector<T>& values,
                            std::optional<Shape> shape = std::nullopt);
  // Convenience for floats given as float32 values but stored as `dtype`.
  static Tensor from_floats(const std::vector<float>& values, const Shape& shape,
                            DType dtype = DType::Float32);
  // 0-dim scalar.
  template <class T>
  static Tensor scalar(T value) {
    return from_vector(std::vector<T>{value}, Shape{});
  }

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t dim() const { return static_cast<std::int64_t>(shape_.size()); }
  // Extent of dimension d; negative d counts from the end.
  std::int64_t size(std::int64_t d) const;
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool owns_memory() const { return owning_; }
  // True for a view whose memory must not be written (a table mapped read-only from a file,
  // io/mapped_table.hpp, where a write would be a segfault). The few operations that write a
  // table in place (copy_from, fill_zero, max_norm's renormalisation, an optimizer over it)
  // refuse such a tensor with a ValueError; copies and reshapes keep the mark, clone() gives
  // a writable copy. Raw pointers (raw_data(), data<T>()) are not checked.
  bool read_only() const { return read_only_; }
  // The same storage, marked read-only.
  Tensor as_read_only() const;
  // Throws ValueError("WHO: the tensor is read-only ...") when read_only().
  void check_writable(const std::string& who) const;
  // Given or not, dtype and shape, for the checks every backend shares (a view: see TensorDesc).
  TensorDesc desc() const { return defined() ? TensorDesc(dtype_, shape_) : TensorDesc(); }

  void* raw_data() { return data_; }
  const void* raw_data() const { return data_; }
  // Typed access; throws TypeError when T does not match dtype().
  template <class T>
  T* data();
  template <class T>
  const T* data() const;

  // Same storage, new shape (numel must match).
  Tensor reshape(const Shape& shape) const;
  // Independent owned copy.
  Tensor clone() const;
  // Converted copy (float types among themselves, index types among themselves,
  // index -> float); always a new tensor.
  Tensor to(DType dtype) const;
  // Copies src's values (same shape and dtype) into this tensor's storage.
  void copy_from(const Tensor& src);
  void fill_zero();

  bool shares_storage_with(const Tensor& other) const {
    return storage_ != nullptr && storage_ == other.storage_;
  }
  // Element i (row-major flat index) widened to double; for tests, printing and small glue.
  double item_at(std::int64_t flat_index) const;
  double item() const;
  std::vector<float> to_float_vector() const;
  std::vector<std::int64_t> to_int64_vector() const;
  std::string to_string() const;

 private:
  Tensor(std::shared_ptr<void> storage, void* data, Shape shape, DType dtype, bool owning);
  void check_dtype(DType expected) const;

  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
  Shape shape_;
  std::int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
  bool owning_ = false;
  bool read_only_ = false;
};

template <class T>
T* Tensor::data() {
  check_dtype(dtype_of<T>::value);
  return static_cast<T*>(data_);
}

template <class T>
const T* Tensor::data() const {
  check_dtype(dtype_of<T>::value);
  return static_cast<const T*>(data_);
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, std::optional<Shape> maybe_shape) {
  const Shape shape = maybe_shape ? *maybe_shape : Shape{static_cast<std::int64_t>(values.size())};
  if (shape_numel(shape) != static_cast<std::int64_t>(values.size())) {
    throw ValueError("from_vector: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape_string(shape));
  }
  Tensor t = empty(shape, dtype_of<T>::value);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}

}  // namespace embedkit
