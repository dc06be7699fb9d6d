// The data cache sizes the machine reports, for kernels that choose prefetching (or not) from
// how a problem's bytes compare with them instead of from fixed constants.
#pragma once

#include <cstdint>

namespace embedkit::kernels::cpu {

// Bytes of the per-core L2 cache: sysconf(_SC_LEVEL2_CACHE_SIZE), else sysfs
// (/sys/devices/system/cpu/cpu0/cache/index*/ with level 2), else 1 MiB when neither reports
// one. Read once. The L2 rather than the L3: a VM's reported L3 can be the whole host's.
std::int64_t l2_cache_bytes();

}  // namespace embedkit::kernels::cpu
