// The tuning knobs of the CPU dispatchers, in one place: how many threads a call gets, how far
// ahead rows are prefetched and when, and when outputs bypass the cache. Only the problem size
// and get_num_threads() enter, so the work split (and, as no kernel's arithmetic depends on it
// anyway, the result) is reproducible. The values were measured on an AMD EPYC (Zen 5, 2 cores
// of a VM, 48 KiB L1d, 1 MiB L2 per core, 32 MiB L3) with bench/embedkit_bench and small
// harnesses around the same kernels; BENCHMARKS.md has the runs.
#pragma once

#include <algorithm>
#include <cstdint>

#include "embedkit/core/thread_pool.hpp"

namespace embedkit::kernels::cpu {

// Bytes of rows a thread should have to move before a call wakes it: waking and joining a
// worker costs a few microseconds, in which one core moves ~100 KiB from cache. (A worker that
// is slow to wake costs little more: the caller claims its chunks, see thread_pool.hpp.)
constexpr std::int64_t kMinBytesPerThread = std::int64_t{256} << 10;

// Rows in flight ahead of the one being read: about kPrefetchBytes of rows, clamped to
// [kMinPrefetchRows, kMaxPrefetchRows]. Measured on bag sums over a 512 MiB table (random rows,
// one thread, distances 0 .. 128 rows): the best distance was 16 rows at D = 128 (0 rows: 17.6
// GB/s, 4: 23.7, 8: 30.9, 16: 35.0, 32: 34.3), 8 rows at D = 256, 32 rows at D = 64 and 32 to
// 64 rows at D = 16 (single-line rows need more of them in flight): 8 KiB covers them all.
constexpr std::int64_t kPrefetchBytes = 8192;
constexpr std::int64_t kMinPrefetchRows = 8;
constexpr std::int64_t kMaxPrefetchRows = 64;

// Tables up to this size are read without prefetching: they live in L1/L2, where a prefetch
// only costs a load slot. Measured (bag sums, bags of 20, one thread): a 64 KiB table at
// D = 128 ran 16% faster without prefetching; from 256 KiB on, prefetching was as fast or
// faster (1 MiB: 13% faster, 16 MiB: 18%, 64 MiB: 27%).
constexpr std::int64_t kPrefetchMinTableBytes = std::int64_t{128} << 10;

// Gather outputs at least this large are written with non-temporal stores (in whole 64-byte
// lines). Measured on lookups into a 512 MiB table, D = 128, one thread: for 8 and 16 MiB
// outputs, which stay in the 32 MiB L3 between calls, ordinary stores were 20-50% faster;
// from 32 MiB on, streaming was ~25% faster (it saves reading each output line before writing
// it). The L3 the OS reports on a VM can be the host's, so the threshold is a constant.
constexpr std::int64_t kStreamMinBytes = std::int64_t{32} << 20;

// Tasks per thread for the kernels that split their work finer than one piece per thread
// (parallel_tasks): the bag forward and the fused optimizer step. A worker woken from its sleep
// starts tens of microseconds after the caller; with one piece each, the caller then waits for
// it at the end, with four the caller takes the worker's share meanwhile.
constexpr int kTasksPerThread = 4;

// Threads for a call that moves `bytes` bytes of rows (1 .. get_num_threads()).
inline int threads_for_bytes(std::int64_t bytes) {
  const std::int64_t by_size = bytes / kMinBytesPerThread;
  return static_cast<int>(std::clamp<std::int64_t>(by_size, 1, get_num_threads()));
}

// Tasks for parallel_tasks over work of `bytes` bytes of rows: kTasksPerThread per thread, or
// one when the work gets one thread (then nothing wakes the pool).
inline int tasks_for_bytes(std::int64_t bytes) {
  const int threads = threads_for_bytes(bytes);
  return threads > 1 ? threads * kTasksPerThread : 1;
}

// Items per parallel_for chunk so that each moves at least kMinBytesPerThread.
inline std::int64_t min_items_per_thread(std::int64_t bytes_per_item) {
  return std::max<std::int64_t>(1, kMinBytesPerThread / std::max<std::int64_t>(bytes_per_item, 1));
}

// Rows prefetched ahead for rows of `row_bytes`.
inline std::int64_t prefetch_ahead(std::int64_t row_bytes) {
  const std::int64_t r = row_bytes > 0 ? kPrefetchBytes / row_bytes : kMaxPrefetchRows;
  return std::clamp<std::int64_t>(r, kMinPrefetchRows, kMaxPrefetchRows);
}

// Prefetch distance for random reads of a table of `table_bytes` (< 0: unknown); 0: none.
inline std::int64_t table_prefetch_ahead(std::int64_t table_bytes, std::int64_t row_bytes) {
  if (table_bytes >= 0 && table_bytes <= kPrefetchMinTableBytes) return 0;
  return prefetch_ahead(row_bytes);
}

}  // namespace embedkit::kernels::cpu
