// `embedkit quantize MODEL -o OUT.ftz`: fastText's `quantize` (models/fasttext_quantization.hpp)
// for a classifier saved by `embedkit classify train` or a fastText .bin (supervised, or word
// vectors without --cutoff). OUT is fastText's .ftz: `fasttext predict` reads it, and so do
// `embedkit classify test|predict`, which predict from its codes.
//
//   embedkit quantize MODEL -o OUT.ftz [--dsub 2] [--qnorm] [--qout] [--cutoff N] [--seed 1234]
//       [--retrain --input TRAIN [--epochs N] [--lr X] [--threads N] [--label-prefix P]]
//   embedkit quantize -output PREFIX -qnorm -cutoff 100000      (fastText's spelling: reads
//       PREFIX.safetensors, or PREFIX.bin when there is none, and writes PREFIX.ftz)
//
// --retrain (fastText's -retrain; models/fasttext_retraining.hpp) trains the rows --cutoff keeps
// again on TRAIN, the model's training file, before quantizing. Its epochs and lr are those the
// model was trained with: an embedkit classifier stores both; a fastText .bin stores its epoch
// but not its lr, which is then fastText's supervised default 0.1. --epochs and --lr (fastText's
// -epoch and -lr) override them, as fastText's command line does (fastText itself uses its own
// defaults, epoch 5 and lr 0.05, when they are not given); --threads is the training's too.
// --label-prefix (fastText's -label) is the prefix of TRAIN's labels: by default the
// classifier's own, and for a fastText .bin, which does not store it, fastText's "__label__"; a
// .bin trained with -label P needs --label-prefix P, and every label of the .bin must carry it.
//
// The model is read and quantized completely before OUT is written, atomically; OUT may not be
// MODEL. Exit status: 0 success, 1 runtime error, 2 usage error.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/fasttext_retraining.hpp"
#include "embedkit/models/labelled_text.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "fasttext_label_prefix.hpp"
#include "json.hpp"
#include "option_checks.hpp"
#include "same_file.hpp"
#include "shared_options.hpp"

namespace embedkit::cli {
namespace {

struct QuantizeCommandOptions {
  std::string model_path;
  std::string output;
  std::int64_t threads = 1;
  bool json = false;
  models::FastTextQuantizeOptions quantize;
  bool retrain = false;
  std::string input;  // --retrain's training file
  std::optional<std::int64_t> epochs;
  std::optional<double> lr;
  std::optional<std::string> label_prefix;  // TRAIN's; unset: the model's (see above)
};

// The model as a fastText model file: a fastText .bin as it is, an embedkit classifier as
// `convert --to fasttext-bin` writes it. `training`: the options retraining starts from (the
// classifier's own; for a .bin, its epoch and fastText's supervised defaults). Its label_prefix
// is the one the model's labels carry in the file: the classifier's, or for a .bin the given
// one (fastText's "__label__" when none is), checked against the .bin's labels when retraining.
io::FastTextModelFile read_model(const std::string& path, const QuantizeCommandOptions& o,
                                 models::FastTextRetraining& training) {
  if (io::file_has_fasttext_magic(path)) {
    io::FastTextModelFile model = io::load_fasttext_model(path);
    training.epochs = model.args.epoch;
    training.lr = 0.1;  // not in the file
    training.label_prefix = o.label_prefix.value_or("__label__");
    if (o.retrain && model.args.model == io::FastTextModelType::Supervised) {
      check_fasttext_label_prefix(path, model, training.label_prefix, o.label_prefix.has_value());
    }
    return model;
  }
  if (models::TextClassifier::is_model_file(path)) {
    const models::TextClassifier classifier = models::TextClassifier::load(path);
    training.epochs = classifier.options().epochs;
    training.lr = classifier.options().lr;
    training.label_prefix = classifier.options().label_prefix;
    training.seed = classifier.options().seed;
    return models::FastTextModel::from_classifier(classifier);
  }
  if (!std::filesystem::is_regular_file(path)) throw IoError(path, "not a regular file");
  throw IoError(path,
                "neither a classifier saved by 'embedkit classify train' nor a fastText .bin");
}

std::string megabytes(std::int64_t bytes) {
  return std::to_string(static_cast<double>(bytes) / 1e6).substr(0, 6) + " MB";
}

// fastText's -retrain without what it needs is a usage error (status 2), found before any work.
void check_retrain_options(const QuantizeCommandOptions* o) {
  if (o->retrain && o->quantize.cutoff == 0) {
    throw CLI::ValidationError(
        "--retrain",
        "needs --cutoff: it trains again the rows the cutoff keeps (fastText's "
        "-retrain does nothing without -cutoff)");
  }
  if (o->retrain && o->input.empty()) {
    throw CLI::ValidationError(
        "--retrain",
        "needs --input TRAIN (fastText's -input): the labelled file the model was "
        "trained on");
  }
  if (!o->retrain && (!o->input.empty() || o->epochs || o->lr || o->label_prefix)) {
    throw CLI::ValidationError(
        "--input",
        "--input, --epochs, --lr and --label-prefix are --retrain's: give --retrain too");
  }
}

int run(QuantizeCommandOptions& o) {
  std::vector<NamedFile> inputs{{"MODEL", o.model_path}};
  if (o.retrain) inputs.push_back({"--input", o.input});
  refuse_outputs_over_inputs(inputs, {{"--output", o.output}});
  io::AtomicFile probe(o.output);  // an unwritable OUT fails now, not after the work
  set_num_threads(static_cast<int>(o.threads));
  const auto start = std::chrono::steady_clock::now();
  models::FastTextRetraining training;
  const io::FastTextModelFile model = read_model(o.model_path, o, training);
  std::vector<models::LabelledExample> lines;
  models::ClassifierTrainStats stats;
  if (o.retrain) {
    models::LabelledTextOptions text;
    // TRAIN's labels are read with its prefix and matched, by their names, to the model's. A
    // prefix says the lines are fastText's, as a .bin's are; an embedkit classifier may have
    // been trained on tab or TREC lines, told apart as `classify train` tells them.
    text.label_prefix = o.label_prefix.value_or(training.label_prefix);
    if (o.label_prefix || io::file_has_fasttext_magic(o.model_path)) {
      text.format = models::TextFormat::FastText;
    }
    lines = models::read_labelled_text(o.input, text);
    if (lines.empty()) throw IoError(o.input, "no labelled line to retrain on");
    training.lines = &lines;
    training.threads = o.threads;
    training.stats = &stats;
    if (o.epochs) training.epochs = *o.epochs;
    if (o.lr) training.lr = *o.lr;
  }
  const io::FastTextModelFile q =
      models::quantize_fasttext_model(model, o.quantize, o.retrain ? &training : nullptr);
  io::save_fasttext_model(o.output, q);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto before = static_cast<std::int64_t>(std::filesystem::file_size(o.model_path));
  const auto after = static_cast<std::int64_t>(std::filesystem::file_size(o.output));
  if (o.json) {
    Json j = Json::object();
    j.set("model", o.model_path)
        .set("output", o.output)
        .set("input_rows", model.input_rows())
        .set("kept_rows", q.input_rows())
        .set("dsub", o.quantize.dsub)
        .set("qnorm", o.quantize.qnorm)
        .set("qout", o.quantize.qout)
        .set("retrain", o.retrain ? Json(Json::object()
                                             .set("input", o.input)
                                             .set("lines", stats.examples)
                                             .set("epochs", training.epochs)
                                             .set("lr", training.lr)
                                             .set("label_prefix",
                                                  o.label_prefix.value_or(training.label_prefix))
                                             .set("threads", training.threads)
                                             .set("final_loss", stats.final_loss)
                                             .set("seconds", stats.seconds))
                                  : Json())
        .set("model_bytes", before)
        .set("output_bytes", after)
        .set("seconds", seconds);
    std::cout << j.dump();
  } else {
    std::cout << "quantized " << model.input_rows() << " input rows";
    if (q.input_rows() != model.input_rows()) std::cout << " (kept " << q.input_rows() << ")";
    if (o.retrain) {
      std::cout << ", retrained " << training.epochs << " epochs on " << stats.examples
                << " lines (final loss " << std::to_string(stats.final_loss).substr(0, 6) << ")";
    }
    std::cout << ", dsub " << o.quantize.dsub << (o.quantize.qnorm ? ", qnorm" : "")
              << (o.quantize.qout ? ", qout" : "") << ": " << megabytes(before) << " -> "
              << megabytes(after) << " in " << std::to_string(seconds).substr(0, 5) << " s; wrote "
              << o.output << "\n";
  }
  return 0;
}

}  // namespace

Command add_quantize(CLI::App& parent) {
  auto o = std::make_shared<QuantizeCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "quantize",
      "Compress a classifier (or fastText model) by product quantization into fastText's .ftz "
      "(fastText's quantize)");
  app->add_option("MODEL", o->model_path,
                  "Model saved by 'embedkit classify train', or a fastText .bin")
      ->required();
  add_output(app, o->output, "The quantized model (fastText's .ftz)", /*required=*/true, "");
  app->add_option("--dsub", o->quantize.dsub,
                  "Values per sub-vector: each dsub values of a row become one byte")
      ->check(in_range<std::int64_t>(1, 100000))
      ->capture_default_str();
  app->add_flag("--qnorm", o->quantize.qnorm, "Quantize each row's norm apart (one byte a row)");
  app->add_flag("--qout", o->quantize.qout, "Quantize the output matrix too");
  app->add_option("--cutoff", o->quantize.cutoff,
                  "Keep only this many input rows (words and n-gram buckets), those of largest "
                  "norm (default: all)")
      ->check(in_range<std::int64_t>(1, std::int64_t{1} << 40));
  app->add_option("--seed", o->quantize.seed, "Seed of the k-means samples and starts")
      ->check(uint64_value())
      ->capture_default_str();
  app->add_flag(
      "--retrain", o->retrain,
      "Train the rows --cutoff keeps again on --input before quantizing (fastText's -retrain)");
  app->add_option("--input", o->input,
                  "--retrain's training file: the labelled lines the model was trained on")
      ->check(CLI::ExistingFile);
  app->add_option("--epochs", o->epochs,
                  "--retrain's epochs (default: the model's; fastText's -epoch)")
      ->check(in_range<std::int64_t>(1, 1000000));
  app->add_option("--lr", o->lr,
                  "--retrain's learning rate (default: the model's, 0.1 for a fastText .bin)")
      ->check(positive<double>());
  app->add_option("--label-prefix", o->label_prefix,
                  "--retrain's: the label prefix of --input (default: the model's; '__label__' "
                  "for a fastText .bin; fastText's -label)")
      ->check(CLI::Validator(
          [](std::string& prefix) {
            return prefix.empty() ? std::string("the label prefix must not be empty")
                                  : std::string();
          },
          "PREFIX"));
  app->parse_complete_callback([o] { check_retrain_options(o.get()); });
  add_training_threads(app, o->threads,
                       "Threads (the quantization does not depend on them; --retrain's "
                       "training is the same on every run only with 1)");
  app->add_flag("--json", o->json, "Print a machine-readable summary");
  return Command{app, [o] { return run(*o); }};
}

}  // namespace embedkit::cli
