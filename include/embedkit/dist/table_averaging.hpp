// The collectives of training across ranks, each with a few counters summed alongside (the
// words trained, a loss) and failure agreement. Data parallelism's synchronisation
// (synchronize): every rank trains its own copy of some tables on its share of the data, and
// every so often the copies are replaced by their mean over the ranks (MPI_Allreduce of the sum
// in place, then a division by P); word2vec's averaged training fills its synchronize hook with
// it (models::Word2VecDataParallel; docs/distributed.md says why the mean). Column shards' sums
// (add_up: every rank's values summed in rank order) and assembly (assemble: pieces set on one
// rank each put together): word2vec over column shards (models::Word2VecColumnShards).
//
// A rank that fails between two collectives (a bad corpus, a diverged loss) calls fail() where
// the others call synchronize(), add_up() or assemble(): all begin with the same collective, so the
// others learn of the failure there, average nothing and throw PeerFailedError, and the job stops
// on every rank instead of waiting forever for the failed one. The lowest failed rank is told that
// it is the one to report its error, so the job prints one error, not P.
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

class TableAveraging {
 public:
  // `sums`: how many counters every synchronize() sums (the same on every rank). Not collective.
  TableAveraging(Communicator comm, std::size_t sums);

  // Collective. Replaces each of `sums` by its sum over the ranks, then each value of each table
  // by its mean over the ranks (every rank passes tables of the same sizes in the same order;
  // with one rank they come back unchanged, bit for bit). Throws PeerFailedError, and changes
  // nothing, when a rank called fail() instead; MpiError when MPI fails; ValueError when `sums`
  // has another size than the constructor's.
  void synchronize(std::span<const std::span<float>> tables, std::span<double> sums);
  // Collective, as synchronize() but each of `values` is replaced by its sum over the ranks,
  // added in rank order (rank 0's, plus rank 1's, ...) on every rank from every rank's values
  // (MPI_Allgather): the same bits on every rank and from run to run, whatever reduction
  // algorithm MPI would choose. Column-sharded word2vec sums its partial scores with it.
  void add_up(std::span<float> values, std::span<double> sums);
  // Collective, as synchronize() but the tables are assembled from pieces: each value is set on
  // one rank and all-zero bits on every other, and comes back as that one rank's, bit for bit
  // (a bitwise OR over the ranks).
  void assemble(std::span<const std::span<float>> tables, std::span<double> sums);
  // Collective, matching the others' synchronize(): tells them this rank failed. Returns the
  // lowest rank that failed in this round (this one or a lower one): that rank reports.
  int fail();

  // Bytes this rank gave MPI_Allreduce (and got back) and the time spent in MPI (compute: the
  // divisions), summed over all synchronisations so far.
  const ExchangeStats& stats() const { return stats_; }
  const Communicator& comm() const { return comm_; }

 private:
  // The first collective of both synchronize() and fail(): every rank's failure flag and the
  // sums. Returns the lowest failed rank, or size() when none failed.
  int agree(bool failed, std::span<double> sums);
  // The first step of every collective: the sums, checked and summed with the failure flags.
  // Throws PeerFailedError when a rank failed.
  void sum_counters(std::span<double> sums, const char* who);

  Communicator comm_;
  std::size_t sums_;
  ExchangeStats stats_;
  std::vector<float> gathered_;  // add_up's values of every rank, kept from call to call
};

}  // namespace embedkit::dist
