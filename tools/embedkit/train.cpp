// `embedkit train CORPUS -o OUT`: trains word2vec vectors (skip-gram or CBOW, negative sampling or
// hierarchical softmax) on a plain or gzip text corpus and writes them in any format
// io::save_word_vectors writes (--format, or guessed from OUT's extension; word2vec text when
// the extension says nothing).
//
// Progress goes to stderr: a redrawn bar on a terminal, plain lines every few seconds otherwise
// (so logs stay readable). The output is written atomically and only after training succeeds:
// a failed run leaves no output file behind (and an existing one untouched).
//
// CORPUS '-' is standard input. The corpus is read once to count the vocabulary and then once
// per epoch by each thread, each from its own offset, so standard input, a pipe or a process
// substitution is first copied to a temporary file (std_streams.hpp: $TMPDIR, at most 64 GiB).
// OUT '-' is standard output (the summary then goes to stderr). An OUT that is the corpus
// itself (by file identity, not by name) is refused before any work.

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/vector_formats.hpp"
#include "embedkit/models/word2vec.hpp"
#include "json.hpp"
#include "option_checks.hpp"
#include "progress_display.hpp"
#include "same_file.hpp"
#include "shared_options.hpp"
#include "std_streams.hpp"
#include "vectors_options.hpp"

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
};

int run_train(TrainOptions& o) {
  o.w2v.architecture = o.model == "cbow" ? models::Word2VecArchitecture::Cbow
                                         : models::Word2VecArchitecture::SkipGram;
  o.w2v.loss = o.loss == "hs" ? models::Word2VecLoss::HierarchicalSoftmax
                              : models::Word2VecLoss::NegativeSampling;
  ProgressDisplay progress("train");
  o.w2v.progress_interval = progress.interval();
  o.w2v.validate();
  const io::VectorFormat format = format_for(o.out, o.format, io::VectorFormat::Word2VecText);
  std::vector<NamedFile> outputs;
  add_vector_files(outputs, "--output", o.out, format, Direction::Output);
  refuse_outputs_over_inputs({{"CORPUS", o.corpus}}, outputs);
  check_vectors_output(o.out, format);
  if (!is_std_stream(o.out)) {
    // A temporary file next to the output, dropped at once: an unwritable output fails now,
    // not after the work.
    io::AtomicFile probe(o.out);
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
  const models::Word2VecResult r =
      corpus.run([&] { return models::train_word2vec(corpus.path(), o.w2v, on_progress); });
  progress.finish(r.final_loss);
  io::WordVectors out;
  out.words = r.dictionary.words().texts();
  out.matrix = r.vectors;
  save_vectors_argument(o.out, out, format);

  if (o.json) {
    Json j = Json::object();
    j.set("corpus", o.corpus)
        .set("output", o.out)
        .set("format", std::string(io::vector_format_name(format)))
        .set("model", o.model)
        .set("loss", o.loss)
        .set("dim", o.w2v.dim)
        .set("epochs", o.w2v.epochs)
        .set("threads", o.w2v.threads)
        .set("vocab_size", r.dictionary.words().size())
        .set("corpus_tokens", r.corpus.tokens)
        .set("corpus_distinct", r.corpus.distinct)
        .set("words_trained", r.words_trained)
        .set("words_per_second", r.words_per_second)
        .set("final_loss", r.final_loss)
        .set("seconds", r.seconds);
    summary_stream(o.out) << j.dump();
  } else {
    summary_stream(o.out) << "wrote " << r.dictionary.words().size() << " vectors of dimension "
                          << o.w2v.dim << " to " << o.out << " (" << io::vector_format_name(format)
                          << "; " << r.corpus.tokens << " tokens, " << o.w2v.threads
                          << (o.w2v.threads == 1 ? " thread, " : " threads, ")
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
             "is not a terminal), the summary then goes to stderr",
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
  add_training_threads(app, o->w2v.threads, "Training threads (> 1: not reproducible)");
  app->add_option("--seed", o->w2v.seed, "Random seed (1 thread: same seed, same vectors)")
      ->check(uint64_value())
      ->capture_default_str();
  app->add_flag("--json", o->json, "Print a machine-readable summary");
  return Command{app, [o] { return run_train(*o); }};
}

}  // namespace embedkit::cli
