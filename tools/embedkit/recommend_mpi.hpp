// `mpirun -np P embedkit recommend train ...`: the recommender trained across P processes with
// its five tables sharded over the ranks (embedkit::dist, docs/distributed.md).
//
// Every rank reads the whole ratings file and makes the same split and id maps (the random
// hold-out, the time splits and the rows' first-appearance order all need the whole file), then
// takes its contiguous share of every global mini-batch of the one-process shuffle. The tables
// (user and item factors and biases row-wise cyclic, the global bias on rank 0) are looked up
// through the dist layer, and each rank's gradient rows go to the owners' fused optimizer step:
// the owners step over the concatenation of all ranks' shares, which is the one-process batch,
// so the trained model equals the one-process command's bit for bit at every P.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "mpi_launch.hpp"

#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"

namespace embedkit::cli {

struct MpiTrained {
  std::optional<models::Recommender> model;  // rank 0 only
  int ranks = 1;
  int rank = 0;
};

// Initialises MPI, trains as above, gathers the tables on rank 0 and finalises MPI before it
// returns (so rank 0 evaluates and writes alone). on_epoch is called on rank 0 with the loss
// summed over all ranks. Errors raised on one rank only (a diverged step) are reported on every
// rank. Defined only in a command built with the dist layer (EMBEDKIT_CLI_WITH_MPI).
MpiTrained train_recommender_over_mpi(
    const std::vector<models::Rating>& train, const models::MfOptions& options,
    const std::function<void(const models::MfEpochReport&)>& on_epoch);

}  // namespace embedkit::cli
