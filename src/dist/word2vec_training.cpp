// word2vec across the ranks (word2vec_training.hpp): models::train_word2vec with its
// data-parallel hook or its column shards' score reduction filled by TableAveraging, after the
// ranks agreed on their arguments.
#include "embedkit/dist/word2vec_training.hpp"

#include <algorithm>
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
                                                         std::int64_t corpus_bytes,
                                                         std::int64_t batch_words = 0) {
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
          {"syncs_per_epoch (0: column shards)", syncs_per_epoch},
          {"batch_words (0: averaging)", batch_words},
          {"the corpus's size in bytes (-1: unreadable)", corpus_bytes}};
}

// The corpus's size in bytes, or -1 when it cannot be read (found by every rank alike when
// training opens it; on some ranks only, the sizes differ).
std::int64_t corpus_size(const std::filesystem::path& corpus) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(corpus, ec);
  return ec ? -1 : static_cast<std::int64_t>(size);
}

// The progress callback on rank 0, none on the others (one rank reports for the job).
std::function<void(const models::Word2VecProgress&)> on_rank_0(
    const Communicator& comm, const std::function<void(const models::Word2VecProgress&)>& f) {
  return comm.rank() == 0 ? f : std::function<void(const models::Word2VecProgress&)>();
}

// Runs `train` (which makes collective calls through `reduction`), turning an error on this rank
// into one error for the job: the lowest failed rank throws its own, the others PeerFailedError.
// A last round with no tables meets a rank that fails after the last collective of training.
models::Word2VecResult stop_together(TableAveraging& reduction,
                                     const std::function<models::Word2VecResult()>& train) {
  std::exception_ptr error;
  try {
    models::Word2VecResult r = train();
    std::array<double, 3> none{};
    reduction.synchronize({}, none);
    return r;
  } catch (const PeerFailedError&) {
    throw;  // another rank failed first; this one has met it in a collective
  } catch (...) {
    error = std::current_exception();
  }
  const int lowest = reduction.fail();
  if (lowest == reduction.comm().rank()) std::rethrow_exception(error);
  throw PeerFailedError(lowest);
}

}  // namespace

models::Word2VecResult train_word2vec(
    const Communicator& comm, const std::filesystem::path& corpus,
    const models::Word2VecOptions& options, std::int64_t syncs_per_epoch,
    const std::function<void(const models::Word2VecProgress&)>& on_progress) {
  detail::agree_on(comm, [&] {
    options.validate();
    if (syncs_per_epoch < 1) {
      throw ValueError("syncs_per_epoch must be >= 1, got " + std::to_string(syncs_per_epoch));
    }
  });
  detail::check_same_on_all_ranks(comm, "word2vec",
                                  fields(options, syncs_per_epoch, corpus_size(corpus)),
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
  return stop_together(averaging, [&] {
    return models::train_word2vec(corpus, options, on_rank_0(comm, on_progress), &parallel);
  });
}

models::Word2VecResult train_word2vec_by_columns(
    const Communicator& comm, const std::filesystem::path& corpus,
    const models::Word2VecOptions& options, std::int64_t batch_words,
    const std::function<void(const models::Word2VecProgress&)>& on_progress) {
  detail::agree_on(comm, [&] {
    options.validate();
    if (batch_words < 1) {
      throw ValueError("batch_words must be >= 1, got " + std::to_string(batch_words));
    }
    if (comm.size() > options.dim) {
      throw ValueError("word2vec: " + std::to_string(comm.size()) + " ranks share dim " +
                       std::to_string(options.dim) +
                       " by columns: every rank needs at least one column");
    }
  });
  detail::check_same_on_all_ranks(comm, "word2vec",
                                  fields(options, 0, corpus_size(corpus), batch_words),
                                  "every rank must train on the same corpus with the same options");
  TableAveraging reduction(comm, 3);
  models::Word2VecColumnShards shards;
  shards.part = comm.rank();
  shards.parts = comm.size();
  shards.batch_words = batch_words;
  shards.reduce_dots = [&reduction](std::span<float> scores) {
    std::array<double, 3> none{};
    reduction.add_up(scores, none);
  };
  return stop_together(reduction, [&] {
    models::Word2VecResult r =
        models::train_word2vec(corpus, options, on_rank_0(comm, on_progress), nullptr, &shards);
    // Every rank's columns into whole tables: each rank fills its own and leaves zeros in the
    // others', and the ranks' tables are assembled bit for bit.
    const std::int64_t dim = options.dim;
    const std::int64_t first = dim * comm.rank() / comm.size();
    auto whole = [&](const Tensor& shard) {
      const std::int64_t rows = shard.size(0);
      const std::int64_t width = shard.size(1);
      Tensor t = Tensor::zeros({rows, dim});
      const float* from = shard.data<float>();
      float* to = t.data<float>();
      for (std::int64_t i = 0; i < rows; ++i) {
        std::copy(from + i * width, from + (i + 1) * width, to + i * dim + first);
      }
      return t;
    };
    std::vector<std::span<float>> tables;
    for (Tensor* t : {&r.vectors, &r.output, &r.input}) {
      if (!t->defined()) continue;  // the input table: with subwords only
      *t = whole(*t);
      tables.emplace_back(t->data<float>(), static_cast<std::size_t>(t->numel()));
    }
    std::array<double, 3> none{};
    reduction.assemble(tables, none);
    return r;
  });
}

}  // namespace embedkit::dist
