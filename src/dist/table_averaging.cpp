#include "embedkit/dist/table_averaging.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <vector>

#include "dist/communicator_impl.hpp"

namespace embedkit::dist {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

TableAveraging::TableAveraging(Communicator comm, std::size_t sums, std::size_t row,
                               TableCombination combination)
    : comm_(std::move(comm)), sums_(sums), row_(row), combination_(combination) {
  if (row_ == 0) throw ValueError("TableAveraging: a row must hold at least one value");
}

void TableAveraging::start(std::span<const std::span<float>> tables) {
  last_.clear();
  if (combination_ == TableCombination::Mean || comm_.size() == 1) return;
  for (const std::span<float> table : tables) last_.emplace_back(table.begin(), table.end());
}

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

void TableAveraging::synchronize(std::span<const std::span<float>> tables, std::span<double> sums) {
  if (sums.size() != sums_) {
    throw ValueError("TableAveraging::synchronize: " + std::to_string(sums.size()) +
                     " sums, the averaging was made for " + std::to_string(sums_));
  }
  std::vector<double> counters(sums.begin(), sums.end());
  const int failed = agree(false, counters);
  if (failed < comm_.size()) throw PeerFailedError(failed);
  std::copy(counters.begin(), counters.end(), sums.begin());
  // One rank: the combination of one table is that table (not recomputed: the mean of one
  // value is the value, but last + (value - last) need not be, in floats). No tables: a round
  // for the counters and the failure flags alone.
  if (comm_.size() == 1 || tables.empty()) return;
  const bool changes = combination_ != TableCombination::Mean;
  const bool per_row = combination_ == TableCombination::RowMeanOfChanges;
  if (changes && last_.size() != tables.size()) {
    throw ValueError("TableAveraging::synchronize: the tables were not given to start()");
  }
  const auto ranks = static_cast<float>(comm_.size());
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const std::span<float> table = tables[t];
    if (table.size() % row_ != 0) {
      throw ValueError("TableAveraging::synchronize: a table of " + std::to_string(table.size()) +
                       " values is not made of rows of " + std::to_string(row_));
    }
    const std::size_t rows = table.size() / row_;
    if (changes) {
      if (last_[t].size() != table.size()) {
        throw ValueError("TableAveraging::synchronize: a table's size changed since start()");
      }
      // The change since the last synchronisation, summed below, and whether each row changed.
      changed_.assign(rows, 0);
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t i = r * row_; i < (r + 1) * row_; ++i) {
          table[i] -= last_[t][i];
          if (table[i] != 0.0f) changed_[r] = 1;
        }
      }
    }
    if (per_row) {
      // Rows, not values: int counts hold 2^31 - 1 rows of any width in one call.
      if (rows > static_cast<std::size_t>(INT_MAX)) {
        throw MpiError("TableAveraging: more than 2^31 - 1 rows in one table");
      }
      const auto start = Clock::now();
      detail::check_mpi(MPI_Allreduce(MPI_IN_PLACE, changed_.data(), static_cast<int>(rows),
                                      MPI_INT32_T, MPI_SUM, detail::native(comm_)),
                        "MPI_Allreduce");
      stats_.exchange_seconds += seconds_since(start);
      stats_.bytes_sent += static_cast<std::int64_t>(rows * sizeof(std::int32_t));
      stats_.bytes_received += static_cast<std::int64_t>(rows * sizeof(std::int32_t));
    }
    // MPI counts are ints: a table of more than 2^31 - 1 values goes in pieces.
    constexpr std::size_t kPiece = std::size_t{1} << 30;
    for (std::size_t at = 0; at < table.size(); at += kPiece) {
      const std::size_t n = std::min(kPiece, table.size() - at);
      const auto start = Clock::now();
      detail::check_mpi(MPI_Allreduce(MPI_IN_PLACE, table.data() + at, static_cast<int>(n),
                                      MPI_FLOAT, MPI_SUM, detail::native(comm_)),
                        "MPI_Allreduce");
      stats_.exchange_seconds += seconds_since(start);
      stats_.bytes_sent += static_cast<std::int64_t>(n * sizeof(float));
      stats_.bytes_received += static_cast<std::int64_t>(n * sizeof(float));
    }
    const auto start = Clock::now();
    if (changes) {
      for (std::size_t r = 0; r < rows; ++r) {
        const float by = per_row && changed_[r] > 1 ? static_cast<float>(changed_[r]) : 1.0f;
        for (std::size_t i = r * row_; i < (r + 1) * row_; ++i) {
          table[i] = last_[t][i] + table[i] / by;
          last_[t][i] = table[i];
        }
      }
    } else {
      for (float& v : table) v /= ranks;
    }
    stats_.compute_seconds += seconds_since(start);
  }
}

int TableAveraging::fail() {
  std::vector<double> zeros(sums_, 0.0);
  return agree(true, zeros);
}

}  // namespace embedkit::dist
