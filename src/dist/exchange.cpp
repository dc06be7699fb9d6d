#include "dist/exchange.hpp"

#include <mpi.h>

#include <climits>
#include <string>

#include "dist/communicator_impl.hpp"

namespace embedkit::dist::detail {

namespace {

// Counts and displacements in records, as MPI's int.
std::vector<int> as_int(const std::vector<std::int64_t>& counts, std::vector<int>& displs) {
  std::vector<int> out(counts.size());
  displs.assign(counts.size(), 0);
  std::int64_t at = 0;
  for (std::size_t p = 0; p < counts.size(); ++p) {
    if (counts[p] > INT_MAX || at > INT_MAX) {
      throw MpiError("embedkit::dist: " + std::to_string(counts[p]) +
                     " records to or from one rank in one exchange exceed MPI's int counts; "
                     "split the batch");
    }
    out[p] = static_cast<int>(counts[p]);
    displs[p] = static_cast<int>(at);
    at += counts[p];
  }
  return out;
}

}  // namespace

std::int64_t total(const std::vector<std::int64_t>& counts) {
  std::int64_t sum = 0;
  for (std::int64_t c : counts) sum += c;
  return sum;
}

std::vector<std::int64_t> exchange_counts(const Communicator& comm,
                                          const std::vector<std::int64_t>& send_counts,
                                          ExchangeStats& stats) {
  std::vector<std::int64_t> recv_counts(send_counts.size());
  const double start = MPI_Wtime();
  check_mpi(MPI_Alltoall(send_counts.data(), 1, MPI_INT64_T, recv_counts.data(), 1, MPI_INT64_T,
                         native(comm)),
            "MPI_Alltoall");
  stats.exchange_seconds += MPI_Wtime() - start;
  const auto bytes = static_cast<std::int64_t>(send_counts.size() * sizeof(std::int64_t));
  stats.bytes_sent += bytes;
  stats.bytes_received += bytes;
  return recv_counts;
}

void exchange_records(const Communicator& comm, const void* send,
                      const std::vector<std::int64_t>& send_counts, void* recv,
                      const std::vector<std::int64_t>& recv_counts, std::size_t record_bytes,
                      ExchangeStats& stats) {
  std::vector<int> send_displs;
  std::vector<int> recv_displs;
  const std::vector<int> sc = as_int(send_counts, send_displs);
  const std::vector<int> rc = as_int(recv_counts, recv_displs);
  // One record is one element of a contiguous type, so that counts stay in records.
  MPI_Datatype record = MPI_DATATYPE_NULL;
  check_mpi(MPI_Type_contiguous(static_cast<int>(record_bytes), MPI_BYTE, &record),
            "MPI_Type_contiguous");
  check_mpi(MPI_Type_commit(&record), "MPI_Type_commit");
  const double start = MPI_Wtime();
  const int rc_all = MPI_Alltoallv(send, sc.data(), send_displs.data(), record, recv, rc.data(),
                                   recv_displs.data(), record, native(comm));
  stats.exchange_seconds += MPI_Wtime() - start;
  MPI_Type_free(&record);
  check_mpi(rc_all, "MPI_Alltoallv");
  stats.bytes_sent += total(send_counts) * static_cast<std::int64_t>(record_bytes);
  stats.bytes_received += total(recv_counts) * static_cast<std::int64_t>(record_bytes);
}

}  // namespace embedkit::dist::detail
