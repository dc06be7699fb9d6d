#include "yardstick.hpp"

#include <cstring>

namespace embedkit::bench {

namespace {

// Accumulators are GCC/Clang vectors of 16 floats (D / 16 of them, in registers): the
// straightforward `float acc[D]` form is what Clang compiles well, but GCC 12 vectorises it
// across ids with gathers and runs 7-14x slower than this form (measured on this machine:
// 1.9 ms against 0.29 ms for bags of 20 at D = 128 from a cache-sized table; Clang 14 on the
// scalar form: 0.30 ms). The vector form is what the yardstick is for: the plain loop at its best.
template <int D>
void plain(const float* weight, const std::int64_t* ids, const std::int64_t* offsets,
           std::int64_t num_bags, std::int64_t n, std::int64_t b0, std::int64_t b1, float* out) {
  constexpr int kLanes = 16;
  static_assert(D % kLanes == 0);
  using Lanes = float __attribute__((vector_size(kLanes * sizeof(float))));
  for (std::int64_t b = b0; b < b1; ++b) {
    Lanes acc[D / kLanes] = {};
    const std::int64_t end = b + 1 < num_bags ? offsets[b + 1] : n;
    for (std::int64_t i = offsets[b]; i < end; ++i) {
      const float* row = weight + ids[i] * D;
      for (int k = 0; k < D / kLanes; ++k) {
        Lanes x;
        std::memcpy(&x, row + k * kLanes, sizeof x);  // an unaligned vector load
        acc[k] += x;
      }
    }
    std::memcpy(out + b * D, acc, sizeof acc);
  }
}

template <int D>
void random_rows(const float* weight, const std::int64_t* ids, std::int64_t i0, std::int64_t i1,
                 int distance, float* out) {
  constexpr int kLanes = 16;
  constexpr int kLineFloats = 16;  // 64-byte cache lines
  static_assert(D % kLanes == 0);
  using Lanes = float __attribute__((vector_size(kLanes * sizeof(float))));
  Lanes acc[D / kLanes] = {};
  for (std::int64_t i = i0; i < i1; ++i) {
    if (distance > 0 && i + distance < i1) {
      const float* ahead = weight + ids[i + distance] * D;
      for (int k = 0; k < D; k += kLineFloats) __builtin_prefetch(ahead + k, 0, 0);
    }
    const float* row = weight + ids[i] * D;
    for (int k = 0; k < D / kLanes; ++k) {
      Lanes x;
      std::memcpy(&x, row + k * kLanes, sizeof x);
      acc[k] += x;
    }
  }
  std::memcpy(out, acc, sizeof acc);
}

}  // namespace

void plain_random_rows(const float* weight, std::int64_t dim, const std::int64_t* ids,
                       std::int64_t i0, std::int64_t i1, int prefetch_distance, float* out) {
  switch (dim) {
    case 16:
      return random_rows<16>(weight, ids, i0, i1, prefetch_distance, out);
    case 32:
      return random_rows<32>(weight, ids, i0, i1, prefetch_distance, out);
    case 64:
      return random_rows<64>(weight, ids, i0, i1, prefetch_distance, out);
    case 128:
      return random_rows<128>(weight, ids, i0, i1, prefetch_distance, out);
    case 256:
      return random_rows<256>(weight, ids, i0, i1, prefetch_distance, out);
    default:
      break;
  }
}

void plain_bag_sum(const float* weight, std::int64_t dim, const std::int64_t* ids,
                   const std::int64_t* offsets, std::int64_t num_bags, std::int64_t n,
                   std::int64_t b0, std::int64_t b1, float* out) {
  switch (dim) {
    case 16:
      return plain<16>(weight, ids, offsets, num_bags, n, b0, b1, out);
    case 32:
      return plain<32>(weight, ids, offsets, num_bags, n, b0, b1, out);
    case 64:
      return plain<64>(weight, ids, offsets, num_bags, n, b0, b1, out);
    case 128:
      return plain<128>(weight, ids, offsets, num_bags, n, b0, b1, out);
    case 256:
      return plain<256>(weight, ids, offsets, num_bags, n, b0, b1, out);
    default:
      break;
  }
}

}  // namespace embedkit::bench
