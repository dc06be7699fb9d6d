#include "kernels/cpu/cache_sizes.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

namespace embedkit::kernels::cpu {

namespace {

// "1024K", "2M" or a plain byte count, as sysfs writes cache sizes; 0 when unreadable.
std::int64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  std::int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (...) {
    return 0;
  }
  if (value <= 0) return 0;
  const char unit = used < text.size() ? text[used] : '\0';
  if (unit == 'K') return value << 10;
  if (unit == 'M') return value << 20;
  return value;
}

std::int64_t sysfs_l2_bytes() {
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream level_file(dir + "/level");
    int level = 0;
    if (!(level_file >> level)) break;
    if (level != 2) continue;
    std::ifstream size_file(dir + "/size");
    std::string size;
    if (size_file >> size) return parse_size(size);
  }
  return 0;
}

std::int64_t detect_l2_bytes() {
#if defined(_SC_LEVEL2_CACHE_SIZE)
  const long reported = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (reported > 0) return reported;
#endif
  const std::int64_t sysfs = sysfs_l2_bytes();
  return sysfs > 0 ? sysfs : std::int64_t{1} << 20;
}

}  // namespace

std::int64_t l2_cache_bytes() {
  static const std::int64_t bytes = detect_l2_bytes();
  return bytes;
}

}  // namespace embedkit::kernels::cpu
