// The hashed n-gram table of `classify train` (word n-grams, subwords) and of `train
// --minn/--maxn` (character n-grams): --buckets rows of --dim floats, allocated whole before the
// first step. A size the machine cannot hold is refused, saying how much it is, rather than
// failing deep inside with a bare std::bad_alloc (or being killed by the OOM killer while the
// table is filled).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>

#include "embedkit/core/error.hpp"

namespace embedkit::cli {

// "512 bytes", "1.5 GiB".
inline std::string byte_size(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(units)) {
    bytes /= 1024;
    ++unit;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return buf;
}

// The machine's physical memory in bytes; 0 when the system cannot tell.
inline double machine_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<double>(pages) * static_cast<double>(page_size);
}

// ValueError when `buckets` x `dim` float32 rows are more than the machine's memory; `table`
// names what the rows hold ("n-gram", "character n-gram").
inline void check_bucket_table_fits(std::int64_t buckets, std::int64_t dim,
                                    std::string_view table) {
  const double bytes = static_cast<double>(buckets) * static_cast<double>(dim) * sizeof(float);
  const double memory = machine_memory_bytes();
  if (memory <= 0) return;
  if (bytes > memory) {
    throw ValueError("--buckets " + std::to_string(buckets) + " needs " + byte_size(bytes) +
                     " for --dim " + std::to_string(dim) + " (a buckets x dim float32 " +
                     std::string(table) + " table), more than this machine's " + byte_size(memory) +
                     " of memory: lower --buckets or --dim");
  }
}

}  // namespace embedkit::cli
