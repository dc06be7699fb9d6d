#include "embedkit/core/tensor.hpp"

#include <cstdlib>
#include <limits>
#include <new>
#include <sstream>

namespace embedkit {

namespace {

template <class F>
decltype(auto) visit_float(DType t, F&& f) {
  switch (t) {
    case DType::Float32:
      return f(float{});
    case DType::Float16:
      return f(Half{});
    case DType::BFloat16:
      return f(BFloat16{});
    default:
      throw TypeError(std::string("expected a float dtype, got ") + std::string(dtype_name(t)));
  }
}

}  // namespace

Tensor::Tensor(std::shared_ptr<void> storage, void* data, Shape shape, DType dtype, bool owning)
    : storage_(std::move(storage)),
      data_(data),
      shape_(std::move(shape)),
      numel_(shape_numel(shape_)),
      dtype_(dtype),
      owning_(owning) {}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  return empty(shape, dtype, {});
}

Tensor Tensor::empty(const Shape& shape, DType dtype, const MemoryOptions& memory) {
  const std::int64_t n = shape_numel(shape);
  if (static_cast<std::uint64_t>(n) > std::numeric_limits<std::size_t>::max() / dtype_size(dtype)) {
    throw ValueError("shape " + shape_string(shape) + " is too large to allocate");
  }
  auto storage = allocate_buffer(static_cast<std::size_t>(n) * dtype_size(dtype), memory);
  void* data = storage.get();
  return Tensor(std::move(storage), data, shape, dtype, true);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill_zero();
  return t;
}

Tensor Tensor::from_blob(void* data, const Shape& shape, DType dtype) {
  if (data == nullptr && shape_numel(shape) != 0) {
    throw ValueError("from_blob: null data for a non-empty shape " + shape_string(shape));
  }
  // A non-owning handle: the no-op deleter leaves the memory to the caller. The marker
  // object gives views of the same blob a shared identity for shares_storage_with().
  static char empty_marker;
  void* identity = data != nullptr ? data : &empty_marker;
  std::shared_ptr<void> storage(identity, [](void*) {});
  return Tensor(std::move(storage), data, shape, dtype, false);
}

Tensor Tensor::from_blob(void* data, const Shape& shape, DType dtype,
                         std::shared_ptr<const void> owner) {
  if (owner == nullptr) throw ValueError("from_blob: the owner of the memory is null");
  Tensor view = from_blob(data, shape, dtype);
  // The aliasing constructor: the same identity as a plain view of `data` (so views of one
  // blob still share storage), but sharing ownership of `owner`.
  view.storage_ =
      std::shared_ptr<void>(std::const_pointer_cast<void>(std::move(owner)), view.storage_.get());
  return view;
}

Tensor Tensor::from_floats(const std::vector<float>& values, const Shape& shape, DType dtype) {
  Tensor f = from_vector(values, shape);
  return dtype == DType::Float32 ? f : f.to(dtype);
}

std::int64_t Tensor::size(std::int64_t d) const {
  const std::int64_t n = dim();
  const std::int64_t w = d < 0 ? d + n : d;
  if (w < 0 || w >= n) {
    throw ValueError("dimension " + std::to_string(d) + " out of range for a " + std::to_string(n) +
                     "-D tensor");
  }
  return shape_[static_cast<std::size_t>(w)];
}

void Tensor::check_dtype(DType expected) const {
  if (!defined()) throw ValueError("access to an undefined tensor");
  if (expected != dtype_) {
    throw TypeError("tensor holds " + std::string(dtype_name(dtype_)) + ", accessed as " +
                    std::string(dtype_name(expected)));
  }
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (!defined()) throw ValueError("reshape of an undefined tensor");
  if (shape_numel(shape) != numel_) {
    throw ValueError("cannot reshape " + shape_string(shape_) + " to " + shape_string(shape));
  }
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return Tensor();
  Tensor t = empty(shape_, dtype_);
  if (nbytes() != 0) std::memcpy(t.data_, data_, nbytes());
  return t;
}

Tensor Tensor::as_read_only() const {
  Tensor t = *this;
  t.read_only_ = true;
  return t;
}

void Tensor::check_writable(const std::string& who) const {
  if (read_only_) {
    throw ValueError(who +
                     ": the tensor is read-only (a table mapped read-only from its file); map it "
                     "copy-on-write, or clone() it, to change it");
  }
}

void Tensor::copy_from(const Tensor& src) {
  if (!defined() || !src.defined()) throw ValueError("copy_from: undefined tensor");
  check_writable("copy_from");
  if (src.dtype_ != dtype_ || src.shape_ != shape_) {
    throw ValueError("copy_from: source " + std::string(dtype_name(src.dtype_)) +
                     shape_string(src.shape_) + " does not match destination " +
                     std::string(dtype_name(dtype_)) + shape_string(shape_));
  }
  if (nbytes() != 0 && data_ != src.data_) std::memmove(data_, src.data_, nbytes());
}

void Tensor::fill_zero() {
  if (!defined()) throw ValueError("fill_zero: undefined tensor");
  check_writable("fill_zero");
  if (nbytes() != 0) std::memset(data_, 0, nbytes());  // all-zero bits are +0 for every dtype
}

double Tensor::item_at(std::int64_t i) const {
  if (!defined()) throw ValueError("item_at: undefined tensor");
  if (i < 0 || i >= numel_) {
    throw IndexError("flat index", i, i, 0, numel_);
  }
  switch (dtype_) {
    case DType::Float32:
      return static_cast<const float*>(data_)[i];
    case DType::Float16:
      return static_cast<float>(static_cast<const Half*>(data_)[i]);
    case DType::BFloat16:
      return static_cast<float>(static_cast<const BFloat16*>(data_)[i]);
    case DType::Int32:
      return static_cast<const std::int32_t*>(data_)[i];
    case DType::Int64:
      return static_cast<double>(static_cast<const std::int64_t*>(data_)[i]);
  }
  return 0;
}

double Tensor::item() const {
  if (numel_ != 1) {
    throw ValueError("item() needs exactly one element, tensor has " + std::to_string(numel_));
  }
  return item_at(0);
}

std::vector<float> Tensor::to_float_vector() const {
  std::vector<float> v(static_cast<std::size_t>(numel_));
  for (std::int64_t i = 0; i < numel_; ++i)
    v[static_cast<std::size_t>(i)] = static_cast<float>(item_at(i));
  return v;
}

std::vector<std::int64_t> Tensor::to_int64_vector() const {
  if (!defined() || !is_index(dtype_))
    throw TypeError("to_int64_vector needs an int32/int64 tensor");
  std::vector<std::int64_t> v(static_cast<std::size_t>(numel_));
  for (std::int64_t i = 0; i < numel_; ++i) {
    v[static_cast<std::size_t>(i)] = dtype_ == DType::Int64
                                         ? static_cast<const std::int64_t*>(data_)[i]
                                         : static_cast<const std::int32_t*>(data_)[i];
  }
  return v;
}

Tensor Tensor::to(DType target) const {
  if (!defined()) throw ValueError("to(): undefined tensor");
  if (target == dtype_) return clone();
  Tensor out = empty(shape_, target);
  const std::int64_t n = numel_;
  if (is_index(dtype_) && is_index(target)) {
    const auto v = to_int64_vector();
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t x = v[static_cast<std::size_t>(i)];
      if (target == DType::Int32) {
        if (x < std::numeric_limits<std::int32_t>::min() ||
            x > std::numeric_limits<std::int32_t>::max()) {
          throw ValueError("to(int32): value " + std::to_string(x) + " at position " +
                           std::to_string(i) + " does not fit in int32");
        }
        out.data<std::int32_t>()[i] = static_cast<std::int32_t>(x);
      } else {
        out.data<std::int64_t>()[i] = x;
      }
    }
    return out;
  }
  if (is_floating(target)) {
    visit_float(target, [&](auto tag) {
      using T = decltype(tag);
      T* dst = static_cast<T*>(out.raw_data());
      for (std::int64_t i = 0; i < n; ++i) dst[i] = from_f32<T>(static_cast<float>(item_at(i)));
    });
    return out;
  }
  throw TypeError("cannot convert " + std::string(dtype_name(dtype_)) + " to " +
                  std::string(dtype_name(target)));
}

std::string Tensor::to_string() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(" << dtype_name(dtype_) << shape_string(shape_) << ", [";
  const std::int64_t shown = numel_ < 16 ? numel_ : 16;
  for (std::int64_t i = 0; i < shown; ++i) os << (i ? ", " : "") << item_at(i);
  if (shown < numel_) os << ", ...";
  os << "])";
  return os.str();
}

}  // namespace embedkit
