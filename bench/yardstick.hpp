// The yardsticks: plain loops a compiler can do its best with (-O3 -march=native).
//
// plain_bag_sum: bag sum as a plain loop a compiler can do its best with (-O3 -march=native,
// the row's accumulators in registers as compiler vectors of compile-time count), no
// prefetching, no intrinsics, no validation. It shows
// what the straightforward code reaches on this machine, next to the tuned kernels.
#pragma once

#include <cstdint>

namespace embedkit::bench {

// out[b] = sum of weight rows ids[offsets[b] .. offsets[b+1]) (offsets has num_bags entries,
// the last bag ends at n). dim must be 16, 32, 64, 128 or 256. Bags [b0, b1) only.
void plain_bag_sum(const float* weight, std::int64_t dim, const std::int64_t* ids,
                   const std::int64_t* offsets, std::int64_t num_bags, std::int64_t n,
                   std::int64_t b0, std::int64_t b1, float* out);

// The random-row read ceiling: reads every float of rows ids[i0 .. i1) of weight (in that
// order, each row once per id) and adds them into one row of accumulators, written to out
// (dim floats) at the end so that no load can be dropped. With prefetch_distance > 0, every
// cache line of row ids[i + prefetch_distance] is prefetched before row ids[i] is read. Nothing
// else: no validation, no output rows, no bookkeeping; what a kernel that reads rows at random
// reaches at best on this machine. dim: 16, 32, 64, 128 or 256.
void plain_random_rows(const float* weight, std::int64_t dim, const std::int64_t* ids,
                       std::int64_t i0, std::int64_t i1, int prefetch_distance, float* out);

}  // namespace embedkit::bench
