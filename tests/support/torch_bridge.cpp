#include "support/torch_bridge.hpp"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace embedkit_test {

at::ScalarType to_torch(embedkit::DType dtype) {
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

embedkit::DType from_torch(at::ScalarType type) {
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

at::Tensor to_torch(const embedkit::Tensor& t) {
  const std::vector<std::int64_t> sizes(t.shape().begin(), t.shape().end());
  const auto options = at::TensorOptions().dtype(to_torch(t.dtype()));
  if (t.numel() == 0) return at::empty(sizes, options);
  embedkit::Tensor source = t;  // shares storage; from_blob wants a non-const pointer
  return at::from_blob(source.raw_data(), sizes, options).clone();
}

embedkit::Tensor from_torch(const at::Tensor& t) {
  const at::Tensor c = t.detach().contiguous();
  embedkit::Tensor out = embedkit::Tensor::empty(
      embedkit::Shape(c.sizes().begin(), c.sizes().end()), from_torch(c.scalar_type()));
  if (out.nbytes() != 0) std::memcpy(out.raw_data(), c.data_ptr(), out.nbytes());
  return out;
}

at::Tensor to_torch(const embedkit::nn::WeightGrad& g) {
  if (!g.is_sparse()) return g.dense().defined() ? to_torch(g.dense()) : at::Tensor();
  const auto& s = g.sparse();
  return at::sparse_coo_tensor(to_torch(s.indices()).unsqueeze(0), to_torch(s.values()),
                               {s.num_rows(), s.dim()});
}

std::vector<at::Tensor> to_torch(const std::vector<embedkit::nn::WeightGrad>& grads) {
  std::vector<at::Tensor> out;
  for (const auto& g : grads) out.push_back(to_torch(g));
  return out;
}

TorchSparse from_torch_sparse(const at::Tensor& t) {
  const at::Tensor indices = t._indices();
  return {from_torch(indices.reshape({indices.size(1)})), from_torch(t._values())};
}

c10::optional<at::Tensor> maybe_torch(const embedkit::Tensor& t) {
  return t.defined() ? c10::optional<at::Tensor>(to_torch(t)) : c10::nullopt;
}

at::Tensor leaf(const embedkit::Tensor& t) {
  return to_torch(t).requires_grad_(true);
}

}  // namespace embedkit_test
