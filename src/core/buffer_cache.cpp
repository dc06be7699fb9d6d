#include "core/buffer_cache.hpp"

#include <cstdlib>
#include <cstring>
#include <iterator>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define EMBEDKIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define EMBEDKIT_ASAN 1
#endif
#endif

namespace embedkit::detail {

namespace {

// Under AddressSanitizer a cached buffer is poisoned, so a use after free of a tensor is still
// caught while its memory waits here, and a reused one is filled with garbage, so code that
// wrongly expects fresh (zeroed) pages fails the tests instead of passing by luck.
void on_cached(void* p, std::size_t bytes) {
#if defined(EMBEDKIT_ASAN)
  ASAN_POISON_MEMORY_REGION(p, bytes);
#else
  (void)p;
  (void)bytes;
#endif
}

void on_reused(void* p, std::size_t bytes) {
#if defined(EMBEDKIT_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(p, bytes);
  std::memset(p, 0xbe, bytes);
#else
  (void)p;
  (void)bytes;
#endif
}

void free_cached(void* p, std::size_t bytes) {
#if defined(EMBEDKIT_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#else
  (void)bytes;
#endif
  std::free(p);
}

}  // namespace

void* BufferCache::take(std::size_t bytes, bool huge_pages) {
  std::lock_guard<std::mutex> lock(mutex_);
  // The most recently freed match: its pages are the likeliest to be in the TLB and caches.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->bytes == bytes && it->huge_pages == huge_pages) {
      void* p = it->p;
      cached_bytes_ -= bytes;
      entries_.erase(std::next(it).base());
      ++hits_;
      on_reused(p, bytes);
      return p;
    }
  }
  ++misses_;
  // A size not seen since the last frees: the program is not repeating itself (a buffer that
  // grows, a batch of a new shape), so what is cached would likely wait forever. Letting it go
  // bounds the cache to a repeating loop's working set instead of to its limit.
  evict_until(0);
  return nullptr;
}

bool BufferCache::give(void* p, std::size_t bytes, bool huge_pages) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bytes > limit_) return false;
  evict_until(limit_ - bytes);
  entries_.push_back({p, bytes, huge_pages});
  cached_bytes_ += bytes;
  on_cached(p, bytes);
  return true;
}

void BufferCache::evict_until(std::size_t cached_at_most) {
  std::size_t drop = 0;
  while (cached_bytes_ > cached_at_most && drop < entries_.size()) {
    free_cached(entries_[drop].p, entries_[drop].bytes);
    cached_bytes_ -= entries_[drop].bytes;
    ++drop;
  }
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
}

void BufferCache::set_limit(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  limit_ = bytes;
  evict_until(bytes);
}

std::size_t BufferCache::limit() {
  std::lock_guard<std::mutex> lock(mutex_);
  return limit_;
}

void BufferCache::release() {
  std::lock_guard<std::mutex> lock(mutex_);
  evict_until(0);
}

BufferCacheStats BufferCache::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {cached_bytes_, entries_.size(), hits_, misses_};
}

BufferCache& buffer_cache() {
  static BufferCache* cache = new BufferCache();
  return *cache;
}

}  // namespace embedkit::detail
