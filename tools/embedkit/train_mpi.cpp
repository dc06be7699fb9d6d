// word2vec trained across MPI processes (train_mpi.hpp): dist::train_word2vec over
// MPI_COMM_WORLD, with the command's error reporting.
#include "train_mpi.hpp"

#include <utility>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/table_averaging.hpp"
#include "embedkit/dist/word2vec_training.hpp"
#include "terminal_text.hpp"

namespace embedkit::cli {

MpiWord2Vec train_word2vec_over_mpi(
    const std::filesystem::path& corpus, const models::Word2VecOptions& options,
    std::int64_t periods_per_epoch, std::int64_t batch_words,
    const std::function<void(const models::Word2VecProgress&)>& on_progress) {
  int argc = 0;
  char** argv = nullptr;
  dist::MpiSession session(argc, argv);
  MpiWord2Vec out;
  const dist::Communicator comm = dist::Communicator::world();
  out.rank = comm.rank();
  out.ranks = comm.size();
  try {
    models::Word2VecResult r =
        batch_words > 0
            ? dist::train_word2vec_by_columns(comm, corpus, options, batch_words, on_progress)
            : dist::train_word2vec(comm, corpus, options, periods_per_epoch, on_progress);
    if (out.rank == 0) out.result = std::move(r);
  } catch (const dist::PeerFailedError&) {
    out.stopped = true;
  } catch (...) {
    // The lowest failed rank (the one dist::train_word2vec lets its own error out of) reports,
    // here, while every rank is still running: a rank that exits makes mpirun kill the others,
    // so a report left to main could be cut off.
    print_current_error("train");
    out.stopped = true;
  }
  if (out.stopped) comm.barrier();  // no rank exits before the report is written
  return out;
}

}  // namespace embedkit::cli
