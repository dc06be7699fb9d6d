// word2vec trained across MPI processes (train_mpi.hpp): models::train_word2vec with its
// data-parallel hook filled by dist::TableAveraging.
#include "train_mpi.hpp"

#include <array>
#include <span>
#include <utility>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/dist/table_averaging.hpp"
#include "terminal_text.hpp"

namespace embedkit::cli {

MpiWord2Vec train_word2vec_over_mpi(
    const std::filesystem::path& corpus, const models::Word2VecOptions& options,
    std::int64_t periods_per_epoch,
    const std::function<void(const models::Word2VecProgress&)>& on_progress) {
  int argc = 0;
  char** argv = nullptr;
  dist::MpiSession session(argc, argv);
  MpiWord2Vec out;
  const dist::Communicator comm = dist::Communicator::world();
  out.rank = comm.rank();
  out.ranks = comm.size();
  // The sums of models::Word2VecDataParallel: words trained, the epoch's loss and predictions.
  dist::TableAveraging averaging(comm, 3);
  models::Word2VecDataParallel parallel;
  parallel.part = out.rank;
  parallel.parts = out.ranks;
  parallel.periods_per_epoch = periods_per_epoch;
  parallel.synchronize = [&averaging](std::span<float> input, std::span<float> output,
                                      std::span<double> sums) {
    const std::array<std::span<float>, 2> tables{input, output};
    averaging.synchronize(tables, sums);
  };
  try {
    models::Word2VecResult r = models::train_word2vec(
        corpus, options,
        out.rank == 0 ? on_progress : std::function<void(const models::Word2VecProgress&)>(),
        &parallel);
    // A last round with no tables: a rank that fails after the last synchronisation (the final
    // check of the vectors) still meets the others here.
    std::array<double, 3> none{};
    averaging.synchronize({}, none);
    if (out.rank == 0) out.result = std::move(r);
  } catch (const dist::PeerFailedError&) {
    out.stopped = true;
  } catch (...) {
    // The lowest failed rank reports, here, while every rank is still running: a rank that
    // exits makes mpirun kill the others, so a report left to main could be cut off.
    if (averaging.fail() == out.rank) print_current_error("train");
    out.stopped = true;
  }
  if (out.stopped) comm.barrier();  // no rank exits before the report is written
  return out;
}

}  // namespace embedkit::cli
