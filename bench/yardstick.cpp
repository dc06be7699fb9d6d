#include "yardstick.hpp"

namespace embedkit::bench {

namespace {

template <int D>
void plain(const float* weight, const std::int64_t* ids, const std::int64_t* offsets,
           std::int64_t num_bags, std::int64_t n, std::int64_t b0, std::int64_t b1, float* out) {
  for (std::int64_t b = b0; b < b1; ++b) {
    float acc[D] = {};
    const std::int64_t end = b + 1 < num_bags ? offsets[b + 1] : n;
    for (std::int64_t i = offsets[b]; i < end; ++i) {
      const float* row = weight + ids[i] * D;
      for (int j = 0; j < D; ++j) acc[j] += row[j];
    }
    for (int j = 0; j < D; ++j) out[b * D + j] = acc[j];
  }
}

}  // namespace

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
