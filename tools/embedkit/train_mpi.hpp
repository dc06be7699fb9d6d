// `mpirun -np P embedkit train ...`: word2vec trained across P processes (docs/distributed.md).
// Every rank counts the whole corpus (the same vocabulary on every rank, and a bad corpus fails on
// every rank alike). By default the ranks train one model over column shards of the tables
// (dist::train_word2vec_by_columns: each rank walks the whole corpus and holds dim / P columns);
// with --distribute average each rank trains its own copy of the tables on its byte range of the
// corpus, and the copies are averaged (dist::TableAveraging) a few times per epoch, the learning
// rate decaying over the words of all ranks; at P = 1 that equals the command without mpirun,
// bit for bit at one thread. Rank 0 alone reports progress and gets the result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "embedkit/models/word2vec.hpp"

namespace embedkit::cli {

struct MpiWord2Vec {
  std::optional<models::Word2VecResult> result;  // rank 0 only
  int ranks = 1;
  int rank = 0;
  // Training failed on some rank and the lowest failed rank has printed the error: every rank
  // stops with a failure status and prints nothing more.
  bool stopped = false;
};

// Initialises MPI, trains as above and finalises MPI before it returns (so rank 0 writes
// alone). An error on any rank stops every rank: the lowest failed rank prints it (as main
// prints errors), then every rank returns stopped once all have met, so no rank exits (which
// makes mpirun kill the others) before the error is written. Defined only in a command built with
// the dist layer (EMBEDKIT_CLI_WITH_MPI).
// batch_words > 0: by column shards instead (dist::train_word2vec_by_columns), batch_words a
// batch; periods_per_epoch is then unused.
MpiWord2Vec train_word2vec_over_mpi(
    const std::filesystem::path& corpus, const models::Word2VecOptions& options,
    std::int64_t periods_per_epoch, std::int64_t batch_words,
    const std::function<void(const models::Word2VecProgress&)>& on_progress);

}  // namespace embedkit::cli
