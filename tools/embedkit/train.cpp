// `embedkit train CORPUS -o OUT`: trains word2vec vectors (skip-gram or CBOW, negative sampling or
// hierarchical softmax) on a plain or gzip text corpus and writes them in any format
// io::save_word_vectors writes (--format, or guessed from OUT's extension; word2vec text when
// the extension says nothing).
//
// Progress goes to stderr: a redrawn bar on a terminal, plain lines every few seconds otherwise
// (so logs stay readable). The output is written atomically and only after training succeeds:
// a failed run leaves no output file behind (and an existing one untouched).
//
// With subwords (--minn/--maxn: fastText's character n-grams) the result is a fastText model,
// and train writes what fastText writes: PREFIX.bin (the model, which fastText, `similar`,
// `analogy` and `eval` read, every word's vector built from its n-grams) and PREFIX.vec (the
// dictionary words' vectors, as `fasttext print-word-vectors` computes them), where OUT is
// PREFIX.bin or PREFIX.vec. Both files are written before either replaces an old one (the .vec
// is committed right after the .bin).
//
// CORPUS '-' is standard input. The corpus is read once to count the vocabulary and then once
// per epoch by each thread, each from its own offset, so standard input, a pipe or a process
// substitution is first copied to a temporary file (std_streams.hpp: $TMPDIR, at most 64 GiB).
// OUT '-' is standard output (the summary then goes to stderr). An OUT that is the corpus
// itself (by file identity, not by name) is refused before any work.
//
// Under mpirun (a command built with MPI) the ranks train one model over column shards of the
// tables, or (--distribute average) by data parallelism, averaging their tables
// --syncs-per-epoch times an epoch (train_mpi.hpp); rank 0 alone reports and writes.
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "bucket_table.hpp"
#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/word2vec.hpp"
#include "json.hpp"
#include "mpi_launch.hpp"
#include "option_checks.hpp"
#include "progress_display.hpp"
#include "same_file.hpp"
#include "shared_options.hpp"
#include "std_streams.hpp"
#include "vectors_options.hpp"
#if EMBEDKIT_CLI_WITH_MPI
#include "train_mpi.hpp"
#endif

namespace embedkit::cli {
namespace {

struct TrainOptions {
  std::string corpus;
  std::string out;
  std::string model = "skipgram";
  std::string loss = "ns";
  std::string format;
  models::Word2VecOptions w2v;
  bool json = false;
  std::string distribute = "columns";  // under mpirun: "columns" or "average"
  std::int64_t syncs_per_epoch = 4;    // under mpirun, average: averagings of the tables an epoch
  std::int64_t column_batch_words = 1000;  // under mpirun, columns: kept words a batch
  bool syncs_given = false, column_batch_given = false;
  // Given on the command line: subwords are asked for with --minn or --maxn.
  bool minn_given = false, maxn_given = false, buckets_given = false;
};

// fastText's defaults for its unsupervised models, taken when subwords are asked for.
constexpr std::int64_t kFastTextMinn = 3;
constexpr std::int64_t kFastTextMaxn = 6;

// The two files of a model with subwords: the fastText model and its word vectors.
struct SubwordOutputs {
  std::string model;    // PREFIX.bin
  std::string vectors;  // PREFIX.vec
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

SubwordOutputs subword_outputs(const std::string& out, const std::string& format) {
  const bool bin = ends_with(out, ".bin"), vec = ends_with(out, ".vec");
  if (is_std_stream(out) || (!bin && !vec) ||
      (!format.empty() && io::parse_vector_format(format) != io::VectorFormat::FastTextModel &&
       io::parse_vector_format(format) != io::VectorFormat::FastTextVec)) {
    throw ValueError(
        "with subwords (--minn/--maxn) train writes fastText's two files, the model PREFIX.bin "
        "and its word vectors PREFIX.vec: name the output PREFIX.bin or PREFIX.vec (got '" +
        out + "'" + (format.empty() ? std::string() : ", --format " + format) + ")");
  }
  const std::string prefix = out.substr(0, out.size() - 4);
  return {prefix + ".bin", prefix + ".vec"};
}

// Writes the .vec and the .bin: the .vec is written first but committed after the .bin, so a
// failure while either is written changes neither file.
void save_subword_model(const SubwordOutputs& files, const models::Word2VecResult& r,
                        const models::Word2VecOptions& options) {
  const io::FastTextModelFile model = models::FastTextModel::from_word2vec(r, options);
  io::WordVectors vectors;
  vectors.words = r.dictionary.words().texts();
  vectors.matrix = r.vectors;
  io::AtomicFile vec(files.vectors);
  const std::string text = io::serialize_word2vec_text(vectors, /*with_header=*/true);
  vec.write(text.data(), text.size());
  io::save_fasttext_model(files.model, model);
  vec.commit();
}

// "4 threads, " or, under mpirun, "1 thread per rank, 4 MPI ranks (data parallel), " (or
// "(column shards)").
std::string parallelism(std::int64_t threads, int ranks, bool by_columns) {
  std::string text = std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  if (ranks == 0) return text + ", ";
  return text + " per rank, " + std::to_string(ranks) + (ranks == 1 ? " MPI rank" : " MPI ranks") +
         (by_columns ? " (column shards), " : " (data parallel), ");
}

int run_train(TrainOptions& o) {
  o.w2v.architecture = o.model == "cbow" ? models::Word2VecArchitecture::Cbow
                                         : models::Word2VecArchitecture::SkipGram;
  o.w2v.loss = o.loss == "hs" ? models::Word2VecLoss::HierarchicalSoftmax
                              : models::Word2VecLoss::NegativeSampling;
  ProgressDisplay progress("train");
  o.w2v.progress_interval = progress.interval();
  if (o.minn_given || o.maxn_given) {
    if (!o.minn_given) o.w2v.minn = kFastTextMinn;
    if (!o.maxn_given) o.w2v.maxn = kFastTextMaxn;
  } else if (o.buckets_given) {
    throw ValueError(
        "--buckets sizes the character n-gram table, which only --minn/--maxn turn on "
        "(fastText's -minn 3 -maxn 6 for its unsupervised models)");
  }
  o.w2v.validate();
  // Each way of training across ranks has its own setting; the other's would do nothing.
  if (o.distribute == "columns" && o.syncs_given) {
    throw ValueError(
        "--syncs-per-epoch sets how often --distribute average averages the ranks' "
        "tables; the ranks train over column shards (the default) without averaging");
  }
  if (o.distribute == "average" && o.column_batch_given) {
    throw ValueError(
        "--column-batch-words sizes the batches of --distribute columns; "
        "--distribute average has none");
  }
  std::optional<SubwordOutputs> subword_files;
  io::VectorFormat format = io::VectorFormat::FastTextVec;
  std::vector<NamedFile> outputs;
  if (o.w2v.subwords()) {
    check_bucket_table_fits(o.w2v.bucket, o.w2v.dim, "character n-gram");
    subword_files = subword_outputs(o.out, o.format);
    outputs.push_back({"--output (the model)", subword_files->model});
    outputs.push_back({"--output (the vectors)", subword_files->vectors});
  } else {
    format = format_for(o.out, o.format, io::VectorFormat::Word2VecText);
    add_vector_files(outputs, "--output", o.out, format, Direction::Output);
    check_vectors_output(o.out, format);
  }
  refuse_outputs_over_inputs({{"CORPUS", o.corpus}}, outputs);
  const std::optional<int> launched = mpi_launch_size();
  if (launched && *launched != 1 && is_std_stream(o.corpus)) {
    throw ValueError(
        "under mpirun the corpus must be a file every rank can read: mpirun gives standard "
        "input to rank 0 alone");
  }
  for (const NamedFile& f : outputs) {
    // Not under mpirun: there the ranks would race for the probe, and a rank that fails stops
    // the others; rank 0 alone writes, atomically, after training.
    if (is_std_stream(f.path) || launched) continue;
    // A temporary file next to the output, dropped at once: an unwritable output fails now,
    // not after the work.
    io::AtomicFile probe(f.path);
  }
  const SpilledInput corpus(o.corpus, /*spill_non_regular=*/true);

  auto on_progress = [&progress](const models::Word2VecProgress& p) {
    progress.update({.fraction = p.fraction,
                     .rate = p.words_per_second,
                     .unit = "words",
                     .loss = p.loss,
                     .lr = p.alpha,
                     .eta_seconds = p.eta_seconds});
  };
  int ranks = 0;  // 0: not under mpirun
  std::optional<models::Word2VecResult> trained;
  if (launched) {
#if EMBEDKIT_CLI_WITH_MPI
    MpiWord2Vec t = corpus.run([&] {
      return train_word2vec_over_mpi(corpus.path(), o.w2v, o.syncs_per_epoch,
                                     o.distribute == "columns" ? o.column_batch_words : 0,
                                     on_progress);
    });
    if (t.stopped) return 1;  // training failed; the lowest failed rank has printed why
    if (t.rank != 0) return 0;
    ranks = t.ranks;
    trained = std::move(t.result);
#else
    if (*launched != 1) {
      throw ValueError(
          "this embedkit was built without MPI: under mpirun every process would train alone; "
          "run it without mpirun, or build it with MPI (EMBEDKIT_MPI=ON)");
    }
#endif
  }
  if (!trained) {
    trained = corpus.run([&] { return models::train_word2vec(corpus.path(), o.w2v, on_progress); });
  }
  const models::Word2VecResult& r = *trained;
  progress.finish(r.final_loss);
  if (subword_files) {
    save_subword_model(*subword_files, r, o.w2v);
  } else {
    io::WordVectors out;
    out.words = r.dictionary.words().texts();
    out.matrix = r.vectors;
    save_vectors_argument(o.out, out, format);
  }

  if (o.json) {
    Json j = Json::object();
    j.set("corpus", o.corpus)
        .set("output", subword_files ? subword_files->vectors : o.out)
        .set("format", std::string(io::vector_format_name(format)))
        .set("model", o.model)
        .set("loss", o.loss)
        .set("dim", o.w2v.dim)
        .set("epochs", o.w2v.epochs)
        .set("threads", o.w2v.threads)
        .set("mpi_ranks", ranks == 0 ? Json() : Json(std::int64_t{ranks}))
        .set("vocab_size", r.dictionary.words().size())
        .set("corpus_tokens", r.corpus.tokens)
        .set("corpus_distinct", r.corpus.distinct)
        .set("words_trained", r.words_trained)
        .set("words_per_second", r.words_per_second)
        .set("final_loss", r.final_loss)
        .set("seconds", r.seconds);
    if (subword_files) {
      j.set("model_output", subword_files->model)
          .set("minn", o.w2v.minn)
          .set("maxn", o.w2v.maxn)
          .set("buckets", o.w2v.bucket);
    }
    summary_stream(o.out) << j.dump();
  } else if (subword_files) {
    std::cout << "wrote " << r.dictionary.words().size() << " vectors of dimension " << o.w2v.dim
              << " to " << subword_files->vectors << " (vec) and the model with " << o.w2v.bucket
              << " character n-gram buckets (minn " << o.w2v.minn << ", maxn " << o.w2v.maxn
              << ") to " << subword_files->model << " (fasttext-bin; " << r.corpus.tokens
              << " tokens, " << parallelism(o.w2v.threads, ranks, o.distribute == "columns")
              << static_cast<long long>(r.words_per_second) << " words/s, final loss "
              << r.final_loss << ", " << r.seconds << " s)\n";
  } else {
    summary_stream(o.out) << "wrote " << r.dictionary.words().size() << " vectors of dimension "
                          << o.w2v.dim << " to " << o.out << " (" << io::vector_format_name(format)
                          << "; " << r.corpus.tokens << " tokens, "
                          << parallelism(o.w2v.threads, ranks, o.distribute == "columns")
                          << static_cast<long long>(r.words_per_second) << " words/s, final loss "
                          << r.final_loss << ", " << r.seconds << " s)\n";
  }
  return 0;
}

}  // namespace

Command add_train(CLI::App& parent) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* app = parent.add_subcommand(
      "train", "Train word2vec vectors (skip-gram/CBOW, negative sampling/hierarchical softmax)");
  app->add_option("CORPUS", o->corpus,
                  "Text corpus, plain or gzip; a newline ends a sentence. '-': standard input; "
                  "standard input or a pipe is copied to a temporary file in $TMPDIR first "
                  "(at most 64 GiB), since the corpus is read once per epoch")
      ->required();
  add_output(app, o->out,
             "Output vectors (format: --format, else by extension); '-': standard output "
             "(word2vec text unless --format says otherwise; binary formats only when it "
             "is not a terminal), the summary then goes to stderr. With subwords: PREFIX.bin "
             "or PREFIX.vec, and both are written (the fastText model and its word vectors)",
             /*required=*/true, "OUT");
  app->add_option("--format", o->format,
                  "Output format: word2vec (text), vec, word2vec-binary (bin), glove, npy or "
                  "safetensors; guessed from OUT's extension when left out (.txt .vec .bin .npy "
                  ".safetensors), word2vec text for any other and for '-'")
      ->check(vector_format_validator());
  app->add_option("--model", o->model, "skipgram or cbow")
      ->check(CLI::IsMember({"skipgram", "cbow"}))
      ->capture_default_str();
  app->add_option("--loss", o->loss, "ns (negative sampling) or hs (hierarchical softmax)")
      ->check(CLI::IsMember({"ns", "hs"}))
      ->capture_default_str();
  app->add_option("--dim", o->w2v.dim, "Vector dimension")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str();
  app->add_option("--window", o->w2v.window, "Maximum context window")
      ->check(in_range<std::int64_t>(1, 1000))
      ->capture_default_str();
  app->add_option("--negative", o->w2v.negative, "Negative samples per prediction")
      ->check(in_range<std::int64_t>(1, 1000))
      ->capture_default_str();
  app->add_option("--min-count", o->w2v.min_count, "Drop words seen fewer times")
      ->check(positive<std::int64_t>())
      ->capture_default_str();
  app->add_option("--max-vocab", o->w2v.max_vocab, "Keep at most this many words (0: all)")
      ->check(non_negative<std::int64_t>())
      ->capture_default_str();
  app->add_option("--sample", o->w2v.sample, "Subsampling threshold (0: off)")
      ->check(in_range<double>(0.0, 1.0))
      ->capture_default_str();
  app->add_option("--epochs", o->w2v.epochs, "Passes over the corpus")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str();
  app->add_option("--lr", o->w2v.alpha,
                  "Starting learning rate, decays linearly to 0 (default 0.025 skip-gram, "
                  "0.05 CBOW; gensim's alpha)")
      ->check(positive<double>());
  add_hidden_alias(app, "--alpha", o->w2v.alpha, positive<double>());
  app->add_option("--minn", o->w2v.minn,
                  "Subwords: the shortest character n-gram (fastText's; default 3 when --maxn "
                  "is given)")
      ->check(in_range<std::int64_t>(1, 1000))
      ->each([o](const std::string&) { o->minn_given = true; });
  app->add_option("--maxn", o->w2v.maxn,
                  "Subwords: the longest character n-gram; 0 turns them off (default: off; 6 "
                  "when --minn is given). With subwords OUT is a fastText model, see -o")
      ->check(in_range<std::int64_t>(0, 1000))
      ->each([o](const std::string&) { o->maxn_given = true; });
  app->add_option("--buckets", o->w2v.bucket,
                  "Subwords: rows of the hashed character n-gram table (fastText's -bucket)")
      ->check(in_range<std::int64_t>(1, 2147483647))
      ->capture_default_str()
      ->each([o](const std::string&) { o->buckets_given = true; });
  add_training_threads(app, o->w2v.threads,
                       "Training threads (> 1: not reproducible, but under mpirun with "
                       "--distribute columns, where they split each rank's columns)");
  app->add_option("--seed", o->w2v.seed, "Random seed (1 thread: same seed, same vectors)")
      ->check(uint64_value())
      ->capture_default_str();
  app->add_option("--distribute", o->distribute,
                  "Under mpirun: columns (each rank holds some columns of the tables, and the "
                  "ranks train one model on the whole corpus, as one process would) or average "
                  "(each rank trains a copy on its part of the corpus, the copies averaged "
                  "--syncs-per-epoch times an epoch: faster, lower analogy accuracy at 4 ranks); "
                  "docs/distributed.md")
      ->check(CLI::IsMember({"columns", "average"}))
      ->capture_default_str();
  app->add_option("--column-batch-words", o->column_batch_words,
                  "Under mpirun with --distribute columns: kept words whose scores are summed "
                  "over the ranks at once (more: fewer exchanges, staler scores); a batch also "
                  "ends as soon as one row has been used 128 times in it")
      ->check(in_range<std::int64_t>(1, 100000000))
      ->capture_default_str()
      ->each([o](const std::string&) { o->column_batch_given = true; });
  app->add_option("--syncs-per-epoch", o->syncs_per_epoch,
                  "Under mpirun with --distribute average: how many times an epoch the ranks "
                  "average their tables")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str()
      ->each([o](const std::string&) { o->syncs_given = true; });
  app->add_flag("--json", o->json, "Print a machine-readable summary");
  return Command{app, [o] { return run_train(*o); }};
}

}  // namespace embedkit::cli
