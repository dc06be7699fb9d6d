// The recommender trained across the ranks of a communicator with its five tables sharded over
// them (docs/distributed.md, "The recommender across processes"). `mpirun -np P embedkit
// recommend train` and the Python module's Recommender.fit(..., comm=...) both run this.
//
// Every rank holds the same training ratings and makes the same id maps, then takes its
// contiguous share of every global mini-batch of the one-process shuffle. The tables (user and
// item factors and biases row-wise cyclic, the global bias on rank 0) are looked up through
// ShardedEmbeddingBag, and each rank's gradient rows go to the owners' fused optimizer step: the
// owners step over the concatenation of all ranks' shares, which is the one-process batch, so
// for the rating objective the model equals models::train_recommender's bit for bit at every P
// (for BPR at P = 1: at P > 1 a row's positive and negative terms are summed in another order).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/models/matrix_factorization.hpp"
#include "embedkit/models/ratings.hpp"
#include "embedkit/models/recommender.hpp"

namespace embedkit::dist {

// Which ranks get the trained model: rank 0 alone (the command, which writes it there), or
// every rank (the Python module, where every rank holds the model as after fit()).
enum class ResultOn { RankZero, EveryRank };

// Collective. Every rank passes the same ratings and options: each rank first checks its options
// (MfOptions::validate), then the ranks agree on them and on the ratings (their number and
// XXH64), so a bad or differing argument on any rank is the same error on every rank, before
// training. `on_epoch` is called on rank 0 with the loss summed over the ranks (other ranks may
// pass none); an exception it throws stops every rank at the end of that epoch (rank 0 throws it,
// the others PeerFailedError). A diverged step stops every rank with TrainingDivergedError. At the
// end the tables are gathered where `result_on` says; the other ranks return nullopt.
std::optional<models::Recommender> train_recommender(
    const Communicator& comm, const std::vector<models::Rating>& train,
    const models::MfOptions& options,
    const std::function<void(const models::MfEpochReport&)>& on_epoch = {},
    ResultOn result_on = ResultOn::RankZero);

}  // namespace embedkit::dist
