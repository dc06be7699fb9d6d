// Where tensors' bytes come from: 64-byte aligned heap memory, or, for large buffers (tables
// that are read at random), memory backed by 2 MiB transparent huge pages. Large buffers (1 MiB and
// up) are kept when freed and handed to the next allocation of the same size, up to a limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace embedkit {

// Buffers from this size up go on transparent huge pages unless MemoryOptions says otherwise:
// a table of 32 MiB spans 8192 pages of 4 KiB, beyond the reach of a second-level TLB (1536 to
// 3072 entries on current x86 cores), so that each random row costs a page walk; with 2 MiB
// pages the whole table takes 16 entries. The rounding to 2 MiB is then at most 6%.
inline constexpr std::size_t kHugePagesFrom = std::size_t{32} << 20;

struct MemoryOptions {
  // Transparent huge pages (Linux: a 2 MiB aligned buffer and madvise(MADV_HUGEPAGE)). A
  // random row lookup in a table much larger than the TLB's reach costs a page walk per row
  // with 4 KiB pages; with 2 MiB pages far fewer (BENCHMARKS.md, "+hugepages"). Unset (the
  // default): asked for from kHugePagesFrom bytes up; true: asked for at any size (the
  // allocation is rounded up to a multiple of 2 MiB); false: never. Only a request: where the
  // OS has THP disabled, or on other systems, the memory is ordinary.
  std::optional<bool> huge_pages;
};

// Whether allocate_buffer asks for huge pages for nbytes under these options.
bool wants_huge_pages(std::size_t nbytes, const MemoryOptions& options);

// The size from which an allocation whose MemoryOptions leave huge_pages unset asks for huge
// pages: kHugePagesFrom until changed; SIZE_MAX: never. Process-wide. The benchmark sets
// SIZE_MAX so that its cases choose their pages explicitly, alike on both sides of a comparison.
void set_huge_pages_from(std::size_t bytes);
std::size_t huge_pages_from();

// An uninitialised buffer of at least nbytes (64-byte aligned; 2 MiB aligned with huge pages),
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
