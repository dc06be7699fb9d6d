#include "embedkit/nn/one_hot.hpp"

#include "embedkit/core/error.hpp"
#include "nn/ids.hpp"

namespace embedkit::nn::functional {

Tensor one_hot(const Tensor& ids, std::int64_t num_classes, DType dtype) {
  if (num_classes < 0) throw ValueError("one_hot: num_classes must be >= 0");
  if (!is_floating(dtype)) throw TypeError("one_hot: dtype must be a float type");
  const Tensor rows = detail::resolve_ids(ids, num_classes, UnknownIds::error(), "one_hot ids");
  const std::vector<std::int64_t> r = rows.to_int64_vector();
  Shape shape = ids.shape();
  shape.push_back(num_classes);
  Tensor out = Tensor::zeros({ids.numel(), num_classes}, DType::Float32);
  float* o = out.data<float>();
  for (std::size_t i = 0; i < r.size(); ++i) {
    o[static_cast<std::int64_t>(i) * num_classes + r[i]] = 1.0f;
  }
  out = out.reshape(shape);
  return dtype == DType::Float32 ? out : out.to(dtype);
}

}  // namespace embedkit::nn::functional
