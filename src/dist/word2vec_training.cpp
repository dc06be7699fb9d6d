// word2vec across the ranks (word2vec_training.hpp): models::train_word2vec with its
// data-parallel hook filled by TableAveraging, after the ranks agreed on their arguments.
#include "embedkit/dist/word2vec_training.hpp"

#include <array>
#include <bit>
#include <exception>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "dist/agreement.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/dist/table_averaging.hpp"

namespace embedkit::dist {
namespace {

std::int64_t bits(double v) {
  return std::bit_cast<std::int64_t>(v);
}

// What every rank must pass alike: the tables' shapes, the schedule, the seeds and the corpus
// (its size: each rank trains on its byte range of it, so a rank with another file would cut
// other ranges). Doubles compared by their bits.
std::vector<std::pair<std::string, std::int64_t>> fields(const models::Word2VecOptions& o,
                                                         std::int64_t syncs_per_epoch,
                                                         std::int64_t corpus_bytes) {
  return {{"architecture", static_cast<std::int64_t>(o.architecture)},
          {"loss", static_cast<std::int64_t>(o.loss)},
          {"dim", o.dim},
          {"window", o.window},
          {"negative", o.negative},
          {"ns_exponent (float64 bits)", bits(o.ns_exponent)},
          {"min_count", o.min_count},
          {"max_vocab", o.max_vocab},
          {"sample (float64 bits)", bits(o.sample)},
          {"epochs", o.epochs},
          {"alpha (float64 bits)", bits(o.alpha)},
          {"min_alpha (float64 bits, -1: unset)", o.min_alpha ? bits(*o.min_alpha) : -1},
          {"threads", o.threads},
          {"seed", std::bit_cast<std::int64_t>(o.seed)},
          {"minn", o.minn},
          {"maxn", o.maxn},
          {"bucket", o.bucket},
          {"syncs_per_epoch", syncs_per_epoch},
          {"the corpus's size in bytes (-1: unreadable)", corpus_bytes}};
}

}  // namespace

models::Word2VecResult train_word2vec(
    const Communicator& comm, const std::filesystem::path& corpus,
    const models::Word2VecOptions& options, std::int64_t syncs_per_epoch,
    const std::function<void(const models::Word2VecProgress&)>& on_progress) {
  std::int64_t corpus_bytes = -1;
  detail::agree_on(comm, [&] {
    options.validate();
    if (syncs_per_epoch < 1) {
      throw ValueError("syncs_per_epoch must be >= 1, got " + std::to_string(syncs_per_epoch));
    }
  });
  // A corpus that cannot be read on every rank is found by every rank alike when training
  // opens it (and reported as training errors are, below); on some ranks only, its size
  // differs.
  std::error_code ec;
  const auto size = std::filesystem::file_size(corpus, ec);
  if (!ec) corpus_bytes = static_cast<std::int64_t>(size);
  detail::check_same_on_all_ranks(comm, "word2vec", fields(options, syncs_per_epoch, corpus_bytes),
                                  "every rank must train on the same corpus with the same options");

  // The sums of models::Word2VecDataParallel: words trained, the epoch's loss and predictions.
  TableAveraging averaging(comm, 3);
  models::Word2VecDataParallel parallel;
  parallel.part = comm.rank();
  parallel.parts = comm.size();
  parallel.periods_per_epoch = syncs_per_epoch;
  parallel.synchronize = [&averaging](std::span<float> input, std::span<float> output,
                                      std::span<double> sums) {
    const std::array<std::span<float>, 2> tables{input, output};
    averaging.synchronize(tables, sums);
  };
  std::exception_ptr error;
  try {
    models::Word2VecResult r = models::train_word2vec(
        corpus, options,
        comm.rank() == 0 ? on_progress : std::function<void(const models::Word2VecProgress&)>(),
        &parallel);
    // A last round with no tables: a rank that fails after the last synchronisation (the final
    // check of the vectors) still meets the others here.
    std::array<double, 3> none{};
    averaging.synchronize({}, none);
    return r;
  } catch (const PeerFailedError&) {
    throw;  // another rank failed first; this one has met it in synchronize()
  } catch (...) {
    error = std::current_exception();
  }
  // This rank failed: the others learn it in their next synchronize(), the lowest failed rank
  // throws its own error.
  const int lowest = averaging.fail();
  if (lowest == comm.rank()) std::rethrow_exception(error);
  throw PeerFailedError(lowest);
}

}  // namespace embedkit::dist
