// Where tensors' bytes come from: 64-byte aligned heap memory, or, for large tables that are
// read at random, memory backed by 2 MiB transparent huge pages. Large buffers (1 MiB and up)
// are kept when freed and handed to the next allocation of the same size, up to a limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace embedkit {

struct MemoryOptions {
  // Ask the kernel for transparent huge pages (Linux: a 2 MiB aligned buffer and
  // madvise(MADV_HUGEPAGE)). A random row lookup in a table much larger than the TLB's reach
  // costs a page walk per row with 4 KiB pages; with 2 MiB pages far fewer. Only a request:
  // where the OS has THP disabled, or on other systems, the memory is ordinary. Rounds the
  // allocation up to a multiple of 2 MiB, so use it for large buffers only.
  bool huge_pages = false;
};

// An uninitialised buffer of at least nbytes (64-byte aligned; 2 MiB aligned with huge_pages),
// freed (or, from 1 MiB up, cached) when the last shared_ptr goes. Throws std::bad_alloc, after
// releasing the cache and trying once more.
std::shared_ptr<void> allocate_buffer(std::size_t nbytes, const MemoryOptions& options = {});

// The buffer cache. A loop that allocates the same large tensors every step (a forward's
// output, a dense gradient) gets the previous step's memory back instead of fresh pages from
// the kernel, whose page faults can cost more than the work. Freed buffers stay mapped up to
// the limit (default 1 GiB; the longest-unused go first), and only while the program keeps
// asking for the sizes it freed: an allocation that finds no buffer of its size releases them
// all. 0 turns the cache off.
void set_buffer_cache_limit(std::size_t bytes);
std::size_t buffer_cache_limit();
// Frees every cached buffer now.
void release_cached_buffers();

struct BufferCacheStats {
  std::size_t cached_bytes = 0;  // held for reuse now
  std::size_t cached_buffers = 0;
  std::uint64_t hits = 0;    // allocations served from the cache
  std::uint64_t misses = 0;  // cacheable allocations that found nothing of their size
};
BufferCacheStats buffer_cache_stats();

}  // namespace embedkit
