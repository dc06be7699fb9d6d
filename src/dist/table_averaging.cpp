#include "embedkit/dist/table_averaging.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dist/communicator_impl.hpp"

namespace embedkit::dist {

namespace {

using Clock = std::chrono::steady_clock;

// MPI counts are ints: a table of more than 2^31 - 1 values goes in pieces.
constexpr std::size_t kPiece = std::size_t{1} << 30;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// MPI_Allreduce of a table in place, `type` and `op` over its 4-byte values, counted in stats.
void allreduce_in_place(const Communicator& comm, ExchangeStats& stats, std::span<float> table,
                        MPI_Datatype type, MPI_Op op) {
  for (std::size_t at = 0; at < table.size(); at += kPiece) {
    const std::size_t n = std::min(kPiece, table.size() - at);
    const auto start = Clock::now();
    detail::check_mpi(MPI_Allreduce(MPI_IN_PLACE, table.data() + at, static_cast<int>(n), type, op,
                                    detail::native(comm)),
                      "MPI_Allreduce");
    stats.exchange_seconds += seconds_since(start);
    stats.bytes_sent += static_cast<std::int64_t>(n * sizeof(float));
    stats.bytes_received += static_cast<std::int64_t>(n * sizeof(float));
  }
}

}  // namespace

TableAveraging::TableAveraging(Communicator comm, std::size_t sums)
    : comm_(std::move(comm)), sums_(sums) {}

int TableAveraging::agree(bool failed, std::span<double> sums) {
  const auto ranks = static_cast<std::size_t>(comm_.size());
  // One message for both: a flag per rank (only its own set) followed by the counters, so that
  // fail() and synchronize() are the same MPI call and always match.
  std::vector<double> values(ranks + sums_, 0.0);
  values[static_cast<std::size_t>(comm_.rank())] = failed ? 1.0 : 0.0;
  std::copy(sums.begin(), sums.end(), values.begin() + static_cast<std::ptrdiff_t>(ranks));
  const auto start = Clock::now();
  detail::check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                                  MPI_DOUBLE, MPI_SUM, detail::native(comm_)),
                    "MPI_Allreduce");
  stats_.exchange_seconds += seconds_since(start);
  const auto bytes = static_cast<std::int64_t>(values.size() * sizeof(double));
  stats_.bytes_sent += bytes;
  stats_.bytes_received += bytes;
  std::copy(values.begin() + static_cast<std::ptrdiff_t>(ranks), values.end(), sums.begin());
  const auto first =
      std::find_if(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(ranks),
                   [](double flag) { return flag != 0.0; });
  return static_cast<int>(first - values.begin());
}

void TableAveraging::sum_counters(std::span<double> sums, const char* who) {
  if (sums.size() != sums_) {
    throw ValueError(std::string("TableAveraging::") + who + ": " + std::to_string(sums.size()) +
                     " sums, the averaging was made for " + std::to_string(sums_));
  }
  std::vector<double> counters(sums.begin(), sums.end());
  const int failed = agree(false, counters);
  if (failed < comm_.size()) throw PeerFailedError(failed);
  std::copy(counters.begin(), counters.end(), sums.begin());
}

void TableAveraging::synchronize(std::span<const std::span<float>> tables, std::span<double> sums) {
  sum_counters(sums, "synchronize");
  const auto ranks = static_cast<float>(comm_.size());
  for (const std::span<float> table : tables) {
    allreduce_in_place(comm_, stats_, table, MPI_FLOAT, MPI_SUM);
    // A division, not a product by 1 / P: one rank's table comes back unchanged, bit for bit.
    const auto start = Clock::now();
    for (float& v : table) v /= ranks;
    stats_.compute_seconds += seconds_since(start);
  }
}

void TableAveraging::add_up(std::span<float> values, std::span<double> sums) {
  sum_counters(sums, "add_up");
  const auto ranks = static_cast<std::size_t>(comm_.size());
  if (ranks == 1 || values.empty()) return;
  if (values.size() > std::numeric_limits<int>::max() / ranks) {
    throw ValueError("TableAveraging::add_up: " + std::to_string(values.size()) +
                     " values from each of " + std::to_string(ranks) +
                     " ranks are more than one MPI_Allgather holds");
  }
  std::vector<float>& all = gathered_;
  all.resize(values.size() * ranks);
  auto start = Clock::now();
  detail::check_mpi(
      MPI_Allgather(values.data(), static_cast<int>(values.size()), MPI_FLOAT, all.data(),
                    static_cast<int>(values.size()), MPI_FLOAT, detail::native(comm_)),
      "MPI_Allgather");
  stats_.exchange_seconds += seconds_since(start);
  stats_.bytes_sent += static_cast<std::int64_t>(values.size() * sizeof(float));
  stats_.bytes_received += static_cast<std::int64_t>(all.size() * sizeof(float));
  start = Clock::now();
  for (std::size_t i = 0; i < values.size(); ++i) {
    float sum = all[i];
    for (std::size_t r = 1; r < ranks; ++r) sum += all[r * values.size() + i];
    values[i] = sum;
  }
  stats_.compute_seconds += seconds_since(start);
}

void TableAveraging::assemble(std::span<const std::span<float>> tables, std::span<double> sums) {
  sum_counters(sums, "assemble");
  static_assert(sizeof(float) == sizeof(std::uint32_t));
  for (const std::span<float> table : tables) {
    allreduce_in_place(comm_, stats_, table, MPI_UINT32_T, MPI_BOR);
  }
}

int TableAveraging::fail() {
  std::vector<double> zeros(sums_, 0.0);
  return agree(true, zeros);
}

}  // namespace embedkit::dist
