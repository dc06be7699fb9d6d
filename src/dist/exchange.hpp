// The all-to-all exchanges of the sharded tables: counts with MPI_Alltoall, then fixed-size
// records (ids, gradient terms, table rows of any dtype) with MPI_Alltoallv, timed and counted
// for ExchangeStats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/exchange_stats.hpp"

namespace embedkit::dist::detail {

// What each rank sends to every other rank: send_counts[p] records to rank p; returns
// recv_counts[p], the records rank p sends here.
std::vector<std::int64_t> exchange_counts(const Communicator& comm,
                                          const std::vector<std::int64_t>& send_counts,
                                          ExchangeStats& stats);

// Sends `send` (records of record_bytes bytes, grouped by destination rank in rank order,
// send_counts[p] of them for rank p) and receives into `recv` (grouped by source rank,
// recv_counts[p] from rank p). MpiError when a count or displacement exceeds MPI's int.
void exchange_records(const Communicator& comm, const void* send,
                      const std::vector<std::int64_t>& send_counts, void* recv,
                      const std::vector<std::int64_t>& recv_counts, std::size_t record_bytes,
                      ExchangeStats& stats);

// Sum of counts.
std::int64_t total(const std::vector<std::int64_t>& counts);

}  // namespace embedkit::dist::detail
