// Where tensors' bytes come from: 64-byte aligned heap memory, or, for large tables that are
// read at random, memory backed by 2 MiB transparent huge pages.
#pragma once

#include <cstddef>
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
// freed when the last shared_ptr goes. Throws std::bad_alloc.
std::shared_ptr<void> allocate_buffer(std::size_t nbytes, const MemoryOptions& options = {});

}  // namespace embedkit
