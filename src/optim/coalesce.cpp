#include "optim/coalesce.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace embedkit::optim::detail {

RowSparseTensor coalesce_like_torch(const RowSparseTensor& grad) {
  const std::int64_t n = grad.nnz();
  const std::int64_t dim = grad.dim();
  const std::int64_t* rows = grad.indices().data<std::int64_t>();
  const float* values = grad.values().data<float>();

  // ATen's sort(): std::sort over (key, position) compared by key alone; deliberately not
  // stable_sort, whose tie order PyTorch does not use.
  std::vector<std::pair<std::int64_t, std::int64_t>> order(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) order[static_cast<std::size_t>(k)] = {rows[k], k};
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  std::int64_t unique = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    unique += k == 0 || order[static_cast<std::size_t>(k)].first !=
                            order[static_cast<std::size_t>(k - 1)].first;
  }
  Tensor out_rows = Tensor::empty({unique}, DType::Int64);
  Tensor out_values = Tensor::empty({unique, dim});
  std::int64_t* r = out_rows.data<std::int64_t>();
  float* v = out_values.data<float>();
  std::int64_t u = -1;
  for (std::int64_t k = 0; k < n; ++k) {
    const auto [row, position] = order[static_cast<std::size_t>(k)];
    const float* src = values + position * dim;
    if (k == 0 || row != r[u]) {
      r[++u] = row;
      std::copy(src, src + dim, v + u * dim);
    } else {
      // cpublas::axpy with alpha 1: one rounded addition per element.
      for (std::int64_t j = 0; j < dim; ++j) v[u * dim + j] += src[j];
    }
  }
  return RowSparseTensor(out_rows, out_values, grad.num_rows());
}

}  // namespace embedkit::optim::detail
