#include "embedkit/core/memory.hpp"

#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace embedkit {

namespace {

// 64-byte alignment: a cache line, and what AVX-512 loads like.
constexpr std::size_t kAlignment = 64;
// The x86-64 (and common AArch64) transparent huge page size.
constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

std::shared_ptr<void> allocate_buffer(std::size_t nbytes, const MemoryOptions& options) {
  const std::size_t alignment = options.huge_pages ? kHugePage : kAlignment;
  if (nbytes > static_cast<std::size_t>(-1) - alignment) throw std::bad_alloc();
  const std::size_t rounded = nbytes == 0 ? alignment : round_up(nbytes, alignment);
  void* p = std::aligned_alloc(alignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: failure (THP compiled out or disabled) leaves ordinary pages, which is fine.
  if (options.huge_pages) madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace embedkit
