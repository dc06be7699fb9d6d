// `embedkit quantize MODEL -o OUT.ftz`: fastText's `quantize` (models/fasttext_quantization.hpp)
// for a classifier saved by `embedkit classify train` or a fastText .bin (supervised, or word
// vectors without --cutoff). OUT is fastText's .ftz: `fasttext predict` reads it, and so do
// `embedkit classify test|predict`, which predict from its codes.
//
//   embedkit quantize MODEL -o OUT.ftz [--dsub 2] [--qnorm] [--qout] [--cutoff N] [--seed 1234]
//   embedkit quantize -output PREFIX -qnorm -cutoff 100000      (fastText's spelling: reads
//       PREFIX.safetensors, or PREFIX.bin when there is none, and writes PREFIX.ftz)
//
// The model is read and quantized completely before OUT is written, atomically; OUT may not be
// MODEL. Exit status: 0 success, 1 runtime error, 2 usage error.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/thread_pool.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/fasttext_quantization.hpp"
#include "embedkit/models/text_classifier.hpp"
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
};

// The model as a fastText model file: a fastText .bin as it is, an embedkit classifier as
// `convert --to fasttext-bin` writes it.
io::FastTextModelFile read_model(const std::string& path) {
  if (io::file_has_fasttext_magic(path)) return io::load_fasttext_model(path);
  if (models::TextClassifier::is_model_file(path)) {
    return models::FastTextModel::from_classifier(models::TextClassifier::load(path));
  }
  if (!std::filesystem::is_regular_file(path)) throw IoError(path, "not a regular file");
  throw IoError(path,
                "neither a classifier saved by 'embedkit classify train' nor a fastText .bin");
}

std::string megabytes(std::int64_t bytes) {
  return std::to_string(static_cast<double>(bytes) / 1e6).substr(0, 6) + " MB";
}

int run(QuantizeCommandOptions& o) {
  refuse_outputs_over_inputs({{"MODEL", o.model_path}}, {{"--output", o.output}});
  io::AtomicFile probe(o.output);  // an unwritable OUT fails now, not after the work
  set_num_threads(static_cast<int>(o.threads));
  const auto start = std::chrono::steady_clock::now();
  const io::FastTextModelFile model = read_model(o.model_path);
  const io::FastTextModelFile q = models::quantize_fasttext_model(model, o.quantize);
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
        .set("model_bytes", before)
        .set("output_bytes", after)
        .set("seconds", seconds);
    std::cout << j.dump();
  } else {
    std::cout << "quantized " << model.input_rows() << " input rows";
    if (q.input_rows() != model.input_rows()) std::cout << " (kept " << q.input_rows() << ")";
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
  add_training_threads(app, o->threads, "Threads (the result does not depend on them)");
  app->add_flag("--json", o->json, "Print a machine-readable summary");
  return Command{app, [o] { return run(*o); }};
}

}  // namespace embedkit::cli
