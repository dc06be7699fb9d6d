// What the last collective operation of a sharded table cost this rank: bytes it sent and
// received (its own share included, which MPI copies locally) and the wall time spent inside
// MPI versus in embedkit's own work (bucketing, gathering rows, pooling, the optimizer step).
// Waiting for a slower rank counts as exchange time.
#pragma once

#include <cstdint>

namespace embedkit::dist {

struct ExchangeStats {
  std::int64_t bytes_sent = 0;
  std::int64_t bytes_received = 0;
  double exchange_seconds = 0.0;
  double compute_seconds = 0.0;
};

}  // namespace embedkit::dist
