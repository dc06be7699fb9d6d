// Data parallelism's synchronisation: every rank trains its own copy of some tables on its share
// of the data, and every so often the copies are combined into one (MPI_Allreduce), with a few
// counters summed alongside (the words trained, a loss). Two ways to combine:
//   Mean: each value becomes its mean over the ranks (the sum, divided by P).
//   SumOfChanges: each value becomes its value at the last synchronisation plus every rank's
//     change since (what P threads sharing one table without locks would have made of it).
//   RowMeanOfChanges: each row becomes its value at the last synchronisation plus the mean of
//     its changes since over the ranks that changed it (a row one rank alone trained keeps that
//     rank's whole change, where Mean would divide it by P; Spark MLlib's word2vec combines its
//     partitions so); each rank then keeps a copy of the tables as of the last synchronisation,
//     and a row count per table goes through MPI_Allreduce too.
// With one rank both leave the tables as they are. word2vec's data-parallel training fills its
// synchronize hook with this (models::Word2VecDataParallel; docs/distributed.md says which
// combination is the default and why, and why not sharded tables).
//
// A rank that fails between two synchronisations (a bad corpus, a diverged loss) calls fail()
// where the others call synchronize(): both begin with the same collective, so the others learn
// of the failure there, average nothing and throw PeerFailedError, and the job stops on every
// rank instead of waiting forever for the failed one. The lowest failed rank is told that it is
// the one to report its error, so the job prints one error, not P.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/exchange_stats.hpp"

namespace embedkit::dist {

// Thrown by TableAveraging::synchronize on the ranks that did not fail when another rank did.
class PeerFailedError : public Error {
 public:
  explicit PeerFailedError(int rank)
      : Error("rank " + std::to_string(rank) + " failed; training stopped"), rank_(rank) {}
  int failed_rank() const { return rank_; }

 private:
  int rank_;
};

enum class TableCombination { Mean, SumOfChanges, RowMeanOfChanges };

class TableAveraging {
 public:
  // `sums`: how many counters every synchronize() sums (the same on every rank); `row`: the
  // values of a row (every table's length a multiple of it). Not collective.
  TableAveraging(Communicator comm, std::size_t sums, std::size_t row,
                 TableCombination combination);

  // Not collective: the tables as training starts (the same on every rank). The combinations
  // of changes need it before the first synchronize(), to know what changed; Mean ignores it.
  void start(std::span<const std::span<float>> tables);

  // Collective. Replaces each of `sums` (sums().size() values) by its sum over the ranks, then
  // combines each table over the ranks (every rank passes tables of the same sizes in the same
  // order; with changes, those given to start()). Throws PeerFailedError, and changes
  // nothing, when a rank called fail() instead; MpiError when MPI fails; ValueError when `sums` has
  // the wrong size.
  void synchronize(std::span<const std::span<float>> tables, std::span<double> sums);
  // Collective, matching the others' synchronize(): tells them this rank failed. Returns the
  // lowest rank that failed in this round (this one or a lower one): that rank reports.
  int fail();

  // Bytes this rank gave MPI_Allreduce (and got back) and the time spent in MPI, summed over all
  // synchronisations so far.
  const ExchangeStats& stats() const { return stats_; }
  const Communicator& comm() const { return comm_; }

 private:
  // The first collective of both synchronize() and fail(): every rank's failure flag and the
  // sums. Returns the lowest failed rank, or size() when none failed.
  int agree(bool failed, std::span<double> sums);

  Communicator comm_;
  std::size_t sums_;
  std::size_t row_;
  TableCombination combination_;
  std::vector<std::vector<float>> last_;  // changes: the tables at the last synchronisation
  std::vector<std::int32_t> changed_;     // RowMeanOfChanges: per row, the ranks that changed it
  ExchangeStats stats_;
};

}  // namespace embedkit::dist
