// word2vec trained across the ranks of a communicator (docs/distributed.md, "word2vec across
// processes"), in one of two ways. By data parallelism with periodic averaging: every rank counts
// the whole corpus (the same vocabulary everywhere), trains its own copy of the tables on its byte
// range of the corpus, and the copies are replaced by their mean `syncs_per_epoch` times an epoch
// (TableAveraging); the learning rate decays over the words of all ranks. `mpirun -np P embedkit
// train` and the Python module's Word2Vec(comm=...) both run this.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "embedkit/dist/communicator.hpp"
#include "embedkit/models/word2vec.hpp"

namespace embedkit::dist {

// Collective. Every rank passes the same corpus and options: first each rank checks its own
// (options.validate(), syncs_per_epoch >= 1), then the ranks agree on them and on the corpus's
// size, so a bad or differing argument on any rank is the same error on every rank ("rank <r>:
// ..." or ValueError "word2vec: the ranks disagree on ..."), before training. `on_progress` is
// called on rank 0 only. Every rank returns the same averaged tables (the vectors, input and
// output); dictionary, corpus and seconds are each rank's own (the same dictionary everywhere). At
// one rank the result equals models::train_word2vec's bit for bit at one thread.
//
// An error on one rank during training (a diverged loss, an exception from on_progress; also a
// corpus every rank fails to read) stops every rank at the next synchronisation: the lowest failed
// rank throws its own error, every other rank throws PeerFailedError naming that rank; nothing is
// returned anywhere.
models::Word2VecResult train_word2vec(
    const Communicator& comm, const std::filesystem::path& corpus,
    const models::Word2VecOptions& options, std::int64_t syncs_per_epoch,
    const std::function<void(const models::Word2VecProgress&)>& on_progress = {});

// Collective: word2vec over column shards (models::Word2VecColumnShards): rank r holds columns
// [dim * r / P, dim * (r + 1) / P) of both tables, every rank walks the whole corpus, and each
// batch of `batch_words` kept words sums its partial scores over the ranks (TableAveraging's
// add_up: in rank order, the same on every rank). The arguments are checked and agreed on as above,
// the errors reported as above (a diverged loss is found by every rank alike: the scores are the
// same everywhere). Every rank returns the whole tables, gathered from the shards at the end. At
// one rank the result equals models::train_word2vec's with Word2VecColumnShards{0, 1, batch_words}
// bit for bit.
models::Word2VecResult train_word2vec_by_columns(
    const Communicator& comm, const std::filesystem::path& corpus,
    const models::Word2VecOptions& options, std::int64_t batch_words,
    const std::function<void(const models::Word2VecProgress&)>& on_progress = {});

}  // namespace embedkit::dist
