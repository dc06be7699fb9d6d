// XXH64 (xxHash, 64-bit, seed 0): a fast non-cryptographic checksum, the one `xxh64sum` and
// Python's `xxhash.xxh64` compute, so a file's identity written by embedkit can be checked
// with common tools. It detects accidents (a mixed or changed file), not tampering.
#pragma once

#include <cstdint>
#include <span>

namespace embedkit::io::detail {

std::uint64_t xxhash64(std::span<const std::uint8_t> bytes);

}  // namespace embedkit::io::detail
