// How one id's share of its bag's gradient is scaled under sum or mean pooling: the arithmetic
// that the reference kernels (kernels/ref/embedding_bag_ref.hpp), the fast ones
// (kernels/cpu/embedding_bag_cpu.cpp) and the fused backward + optimizer step
// (optim/fused_backward.cpp) must share to the bit, so it exists once, here.
#pragma once

#include <cstdint>

namespace embedkit::kernels {

// Number of non-padding ids in bag b (ids[bounds[b], bounds[b + 1])): the mean's divisor.
template <class I>
std::int64_t bag_count(const I* ids, const std::int64_t* bounds, std::int64_t b,
                       std::int64_t padding_idx) {
  std::int64_t c = 0;
  for (std::int64_t i = bounds[b]; i < bounds[b + 1]; ++i) {
    c += static_cast<std::int64_t>(ids[i]) != padding_idx;
  }
  return c;
}

// The multiplier of grad_out[b] for the id at position i of bag b: its per-sample weight (1
// without), / the count of its row over all ids (scale_grad_by_freq), / the bag's size (mean
// pooling, non-empty bags). Computed in double and rounded to float once, as PyTorch does.
inline float bag_grad_scale(double psw, std::int64_t row_count, std::int64_t bag_size, bool mean,
                            bool scale_grad_by_freq) {
  double scale = psw;
  if (scale_grad_by_freq) scale /= static_cast<double>(row_count);
  if (mean && bag_size != 0) scale /= static_cast<double>(bag_size);
  return static_cast<float>(scale);
}

}  // namespace embedkit::kernels
