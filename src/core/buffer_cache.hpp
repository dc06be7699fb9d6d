// Keeps large freed buffers for the next allocation of the same size. A forward pass that
// returns a fresh 512 MiB output, or a dense gradient of a 512 MiB table, otherwise gets new
// pages from the kernel on every call (glibc maps buffers above 32 MiB afresh each time), and
// faulting them in costs more than the lookup itself (bench: fwd_alloc and bwd_dense with 1M
// ids). PyTorch's CUDA allocator caches for the same reason; its CPU allocator does not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "embedkit/core/memory.hpp"

namespace embedkit::detail {

class BufferCache {
 public:
  // Only buffers at least this large are cached; smaller ones malloc reuses well.
  static constexpr std::size_t kMinBytes = std::size_t{1} << 20;
  static constexpr std::size_t kDefaultLimit = std::size_t{1} << 30;

  // A cached buffer of exactly `bytes` (the allocation's rounded size) and kind, or null, in
  // which case every cached buffer is freed.
  void* take(std::size_t bytes, bool huge_pages);
  // Keeps p (an aligned_alloc'ed buffer of `bytes`) if it fits under the limit, evicting the
  // longest-unused buffers as needed; false: the caller frees it.
  bool give(void* p, std::size_t bytes, bool huge_pages);
  void set_limit(std::size_t bytes);
  std::size_t limit();
  void release();
  BufferCacheStats stats();

 private:
  struct Entry {
    void* p;
    std::size_t bytes;
    bool huge_pages;
  };
  void evict_until(std::size_t cached_at_most);  // with mutex_ held

  std::mutex mutex_;
  std::vector<Entry> entries_;  // oldest first; a handful at most, so scans are cheap
  std::size_t cached_bytes_ = 0;
  std::size_t limit_ = kDefaultLimit;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

// The process's cache (never destroyed, so buffers freed during static destruction are safe).
BufferCache& buffer_cache();

}  // namespace embedkit::detail
