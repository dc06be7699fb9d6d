// The recommender trained across MPI processes (recommend_mpi.hpp): dist::train_recommender over
// MPI_COMM_WORLD, the model gathered on rank 0.
#include "recommend_mpi.hpp"

#include <utility>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/recommender_training.hpp"

namespace embedkit::cli {

MpiTrained train_recommender_over_mpi(
    const std::vector<models::Rating>& train, const models::MfOptions& options,
    const std::function<void(const models::MfEpochReport&)>& on_epoch) {
  options.validate();
  int argc = 0;
  char** argv = nullptr;
  dist::MpiSession session(argc, argv);
  MpiTrained out;
  {
    const dist::Communicator comm = dist::Communicator::world();
    out.rank = comm.rank();
    out.ranks = comm.size();
    out.model = dist::train_recommender(comm, train, options, on_epoch, dist::ResultOn::RankZero);
  }
  return out;
}

}  // namespace embedkit::cli
