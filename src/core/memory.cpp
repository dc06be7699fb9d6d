#include "embedkit/core/memory.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/buffer_cache.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace embedkit {

namespace {

// 64-byte alignment: a cache line, and what AVX-512 loads like.
constexpr std::size_t kAlignment = 64;
// The x86-64 (and common AArch64) transparent huge page size.
constexpr std::size_t kHugePage = std::size_t{2} << 20;
// Cacheable (>= 1 MiB) sizes are rounded up to a multiple of this, so that near sizes share
// buffers at a cost of at most 6% more memory; a multiple of kAlignment (and a divisor of
// kHugePage, so huge-page sizes are unchanged).
constexpr std::size_t kCacheGrain = std::size_t{64} << 10;

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

std::atomic<std::size_t> g_huge_pages_from{kHugePagesFrom};

}  // namespace

bool wants_huge_pages(std::size_t nbytes, const MemoryOptions& options) {
  return options.huge_pages.value_or(nbytes >= g_huge_pages_from.load(std::memory_order_relaxed));
}

void set_huge_pages_from(std::size_t bytes) {
  g_huge_pages_from.store(bytes, std::memory_order_relaxed);
}

std::size_t huge_pages_from() {
  return g_huge_pages_from.load(std::memory_order_relaxed);
}

std::shared_ptr<void> allocate_buffer(std::size_t nbytes, const MemoryOptions& options) {
  const bool huge = wants_huge_pages(nbytes, options);
  const std::size_t alignment = huge ? kHugePage : kAlignment;
  if (nbytes > static_cast<std::size_t>(-1) - kHugePage) throw std::bad_alloc();  // no overflow
  std::size_t rounded = nbytes == 0 ? alignment : round_up(nbytes, alignment);
  const bool cacheable = rounded >= detail::BufferCache::kMinBytes;
  if (cacheable) rounded = round_up(rounded, kCacheGrain);
  void* p = cacheable ? detail::buffer_cache().take(rounded, huge) : nullptr;
  if (p == nullptr) {
    p = std::aligned_alloc(alignment, rounded);
    if (p == nullptr && cacheable) {
      detail::buffer_cache().release();  // memory held for reuse is better spent here
      p = std::aligned_alloc(alignment, rounded);
    }
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Advice only: failure (THP compiled out or disabled) leaves ordinary pages, which is fine.
    if (huge) madvise(p, rounded, MADV_HUGEPAGE);
#endif
  }
  if (!cacheable) return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return std::shared_ptr<void>(p, [rounded, huge](void* q) {
    if (!detail::buffer_cache().give(q, rounded, huge)) std::free(q);
  });
}

void set_buffer_cache_limit(std::size_t bytes) {
  detail::buffer_cache().set_limit(bytes);
}

std::size_t buffer_cache_limit() {
  return detail::buffer_cache().limit();
}

void release_cached_buffers() {
  detail::buffer_cache().release();
}

BufferCacheStats buffer_cache_stats() {
  return detail::buffer_cache().stats();
}

}  // namespace embedkit
