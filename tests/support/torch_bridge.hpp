// Copies between embedkit's tensors and LibTorch's, for every test that compares with LibTorch
// (the differential suites, the layer, loss and optimizer oracles, the examples).
//
// Only ATen is included (not <torch/torch.h>): it has everything these conversions need, autograd
// included, and compiles several times faster. Every copy is independent of its source (never a
// view: autograd may keep a tensor after embedkit frees its memory, and the other way round).
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <vector>

#include "embedkit/core/dtype.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/weight_grad.hpp"

namespace embedkit_test {

// The torch type of an embedkit dtype, and back (std::logic_error for a torch type embedkit does
// not have). Both libraries store IEEE binary16 and the top half of binary32 for the 16-bit
// types, so the bytes of every dtype carry over unchanged.
at::ScalarType to_torch(embedkit::DType dtype);
embedkit::DType from_torch(at::ScalarType type);

// A dense tensor, any dtype.
at::Tensor to_torch(const embedkit::Tensor& t);
embedkit::Tensor from_torch(const at::Tensor& t);

// A gradient as PyTorch holds it: dense, an uncoalesced sparse COO tensor with embedkit's entry
// order (what torch's embedding backward produces), or undefined (.grad is None).
at::Tensor to_torch(const embedkit::nn::WeightGrad& g);
std::vector<at::Tensor> to_torch(const std::vector<embedkit::nn::WeightGrad>& grads);

// A torch sparse COO gradient (sparse_dim 1) as embedkit-shaped pieces: indices [nnz] (int64) and
// values [nnz, D], in torch's stored order (uncoalesced: input order).
struct TorchSparse {
  embedkit::Tensor indices;
  embedkit::Tensor values;
};
TorchSparse from_torch_sparse(const at::Tensor& t);

// An optional tensor argument: undefined becomes "not given".
c10::optional<at::Tensor> maybe_torch(const embedkit::Tensor& t);

// A leaf tensor that records its gradient.
at::Tensor leaf(const embedkit::Tensor& t);

// LibTorch 1.13's optional is c10::optional, not std::optional.
template <class T>
c10::optional<T> to_c10(const std::optional<T>& value) {
  return value ? c10::optional<T>(*value) : c10::nullopt;
}

}  // namespace embedkit_test
