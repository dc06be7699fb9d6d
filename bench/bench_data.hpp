// The data the benchmarks share: one table in memory at a time (a 512 MiB or 4 GiB table is
// built once and reused by every case on it), and id streams drawn uniformly or from a Zipf
// law. embedkit and LibTorch read the very same bytes: the torch tensors are views of these
// buffers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/core/tensor.hpp"

namespace embedkit::bench {

enum class Dist { Uniform, Zipf };

std::string dist_name(Dist d);

// A float32 table [rows, dim] with N(0, 1)-ish values; cached: asking for the same shape again
// returns the same tensor, asking for another frees the previous one first.
const Tensor& table(std::int64_t rows, std::int64_t dim, bool huge_pages = false);

// n ids in [0, rows): uniform, or Zipf(s = 1.05) over ranks whose rank -> row map is a fixed
// pseudo-random permutation (hot rows scattered over the table, as hashed ids are). Cached by
// all arguments; int64.
const Tensor& ids(std::int64_t n, std::int64_t rows, Dist dist);

// Offsets of bags of exactly `bag` ids each over n ids (n a multiple of bag).
const Tensor& offsets(std::int64_t n, std::int64_t bag);

// Rows of `dim` floats that fit in `bytes`.
inline std::int64_t rows_for_bytes(std::int64_t bytes, std::int64_t dim) {
  return bytes / (dim * static_cast<std::int64_t>(sizeof(float)));
}

}  // namespace embedkit::bench
