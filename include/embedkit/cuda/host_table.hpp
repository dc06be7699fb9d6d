// A table larger than GPU memory: it stays in page-locked host memory, mapped into the device's
// address space, and lookups run on the GPU. Rows the batches use often are kept in a device
// cache (RowCache: set-associative, LRU); a miss is copied into its slot by a kernel reading
// the mapped host memory, and rows that find no free slot are read by the lookup straight from
// host memory (zero-copy). prefetch(next_ids) plans the next batch and queues its copies on a
// second stream, so they overlap the current batch's lookup.
//
//   cuda::HostTable table(big_table, /*cache_rows=*/1 << 20);
//   table.prefetch(batch0);
//   for (...) {
//     cuda::DeviceTensor out = table.forward(batch_k);  // uses the prefetched plan
//     table.prefetch(batch_k_plus_1);
//     ...
//   }
#pragma once

#include <cstdint>
#include <memory>

#include "embedkit/core/tensor.hpp"
#include "embedkit/cuda/device.hpp"
#include "embedkit/cuda/row_cache.hpp"

namespace embedkit::cuda {

struct HostTableStats {
  CacheStats cache;
  std::int64_t row_bytes_moved = 0;    // table rows read over the bus (fills and bypasses)
  std::int64_t index_bytes_moved = 0;  // ids, slots and fill lists read over the bus
};

class HostTable {
 public:
  // Copies `table` (2-D, float32/float16/bfloat16) into pinned host memory; a device cache of
  // cache_rows rows in sets of `ways` (cache_rows 0: every lookup reads host memory).
  HostTable(const Tensor& table, std::int64_t cache_rows, int ways = 8);
  ~HostTable();
  HostTable(const HostTable&) = delete;
  HostTable& operator=(const HostTable&) = delete;

  // Validates and plans `ids` (host, int32/int64) and queues the cache fills; returns at once.
  void prefetch(const Tensor& ids);
  // out = table[ids] on the device (shape ids.shape + [D]). Uses the last prefetched plan when
  // it was made for the same ids, else plans now. A bad id raises IndexError; nothing changes.
  DeviceTensor forward(const Tensor& ids);
  void forward_into(const Tensor& ids, DeviceTensor& out);

  std::int64_t num_rows() const;
  std::int64_t dim() const;
  DType dtype() const;
  HostTableStats stats() const;
  void reset_stats();
  // Waits for every queued copy and lookup.
  void synchronize();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace embedkit::cuda
