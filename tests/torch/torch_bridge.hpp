// Copies between embedkit::Tensor and LibTorch tensors, and small LibTorch helpers.
//
// Only ATen is included (not <torch/torch.h>): it has everything these tests call, autograd
// included (at:: ops on tensors that require grad record the graph), and compiles several times
// faster, which matters on a 2-core machine.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit_diff {

// The 1.13 behaviours that embedkit deliberately does not copy are asserted as such only on the
// version they were observed on; a later LibTorch may have fixed them.
inline constexpr bool kTorch113 = TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR == 13;

inline at::ScalarType to_torch(embedkit::DType dtype) {
  switch (dtype) {
    case embedkit::DType::Float32:
      return at::kFloat;
    case embedkit::DType::Float16:
      return at::kHalf;
    case embedkit::DType::BFloat16:
      return at::kBFloat16;
    case embedkit::DType::Int32:
      return at::kInt;
    case embedkit::DType::Int64:
      return at::kLong;
  }
  throw std::logic_error("unknown embedkit dtype");
}

inline embedkit::DType from_torch(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return embedkit::DType::Float32;
    case at::kHalf:
      return embedkit::DType::Float16;
    case at::kBFloat16:
      return embedkit::DType::BFloat16;
    case at::kInt:
      return embedkit::DType::Int32;
    case at::kLong:
      return embedkit::DType::Int64;
    default:
      throw std::logic_error(std::string("no embedkit dtype for torch ") + at::toString(type));
  }
}

// An independent torch copy (both libraries store IEEE binary16 / the top half of binary32 for
// the 16-bit types, so the bytes carry over unchanged).
inline at::Tensor to_torch(const embedkit::Tensor& t) {
  const std::vector<std::int64_t> sizes(t.shape().begin(), t.shape().end());
  const auto options = at::TensorOptions().dtype(to_torch(t.dtype()));
  if (t.numel() == 0) return at::empty(sizes, options);
  embedkit::Tensor source = t;  // shares storage; from_blob wants a non-const pointer
  return at::from_blob(source.raw_data(), sizes, options).clone();
}

// An independent embedkit copy of a dense torch tensor.
inline embedkit::Tensor from_torch(const at::Tensor& t) {
  const at::Tensor c = t.detach().contiguous();
  embedkit::Tensor out = embedkit::Tensor::empty(
      embedkit::Shape(c.sizes().begin(), c.sizes().end()), from_torch(c.scalar_type()));
  if (out.nbytes() != 0) std::memcpy(out.raw_data(), c.data_ptr(), out.nbytes());
  return out;
}

// A torch sparse COO gradient (sparse_dim 1) as embedkit-shaped pieces: indices [nnz] (int64) and
// values [nnz, D], in torch's stored order (uncoalesced: input order).
struct TorchSparse {
  embedkit::Tensor indices;
  embedkit::Tensor values;
};
inline TorchSparse from_torch_sparse(const at::Tensor& t) {
  const at::Tensor indices = t._indices();
  return {from_torch(indices.reshape({indices.size(1)})), from_torch(t._values())};
}

// LibTorch 1.13's optional is c10::optional, not std::optional.
template <class T>
c10::optional<T> to_c10(const std::optional<T>& value) {
  return value ? c10::optional<T>(*value) : c10::nullopt;
}

// F.embedding's max_norm step: embedding_renorm_ on the detached table, under no_grad.
//
// For float16/bfloat16 tables the renormalisation runs on a float32 copy that is then rounded
// back: LibTorch 1.13 computes 16-bit norms with 16-bit intermediates (|x|^p is rounded to the
// 16-bit type before summing), which is off by up to ~3% on N(0,1) rows and by far more when
// |x|^p underflows (float16 row [-0.0032654], p=3: norm 0.0039 instead of 0.0033). embedkit
// computes the norm accurately and rounds it once; comparing it with torch's 16-bit norms would
// only measure torch's rounding.
inline void torch_renorm(const at::Tensor& weight, const at::Tensor& ids, double max_norm,
                         double norm_type) {
  at::NoGradGuard no_grad;
  at::Tensor table = weight.detach();
  if (table.scalar_type() == at::kFloat) {
    at::embedding_renorm_(table, ids.contiguous(), max_norm, norm_type);
    return;
  }
  at::Tensor wide = table.to(at::kFloat);
  at::embedding_renorm_(wide, ids.contiguous(), max_norm, norm_type);
  table.copy_(wide);
}

// Runs f and reports whether LibTorch threw (c10::Error derives from std::exception).
template <class F>
bool torch_throws(F&& f, std::string* message = nullptr) {
  try {
    std::forward<F>(f)();
  } catch (const std::exception& e) {
    if (message != nullptr) *message = e.what();
    return true;
  }
  return false;
}

// Small tensors: torch's intra-op thread pool only adds overhead (and noise under sanitizers).
inline void use_one_torch_thread() {
  if (at::get_num_threads() != 1) at::set_num_threads(1);
}

}  // namespace embedkit_diff
