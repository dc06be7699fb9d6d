// `embedkit convert IN -o OUT`: word vectors from one format to another, bit for bit. The input
// is read and checked completely before OUT is written, and OUT is replaced atomically, so a
// bad input or a failed write never leaves a partial OUT. IN '-' is standard input and OUT '-'
// standard output (word2vec text unless --from / --to say otherwise; the summary then goes to
// stderr). An OUT that is IN itself (or IN's vocabulary side file) is refused. A text classifier
// (`embedkit classify train`'s model) converts --to fasttext-bin, as fastText's supervised .bin.
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "embedkit/io/safetensors.hpp"
#include "embedkit/models/fasttext_model.hpp"
#include "embedkit/models/text_classifier.hpp"
#include "json.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {
namespace {

struct ConvertOptions {
  std::string input;
  std::string output;
  std::string from;
  std::string to;
  bool json = false;
};

// Whether IN is a text classifier saved by `embedkit classify train` (its safetensors metadata
// says so), which --to fasttext-bin writes as a fastText supervised model.
bool is_text_classifier(const std::string& path, io::VectorFormat from) {
  if (from != io::VectorFormat::Safetensors || is_std_stream(path)) return false;
  const io::SafetensorsHeader header = io::read_safetensors_header(path);
  const auto kind = header.metadata.find("embedkit.model");
  return kind != header.metadata.end() && kind->second == "text_classifier";
}

// A text classifier to a fastText .bin that `fasttext predict` reads as embedkit predicts.
int convert_classifier(const ConvertOptions& o) {
  const models::TextClassifier model = models::TextClassifier::load(o.input);
  const io::FastTextModelFile file = models::FastTextModel::from_classifier(model);
  if (is_std_stream(o.output)) {
    write_via_temp_file(
        "model.bin", [&](const std::filesystem::path& out) { io::save_fasttext_model(out, file); });
  } else {
    io::save_fasttext_model(o.output, file);
  }
  std::ostream& summary = summary_stream(o.output);
  const auto words = static_cast<std::int64_t>(file.dictionary.words.size());
  const auto labels = static_cast<std::int64_t>(file.dictionary.labels.size());
  if (o.json) {
    summary << Json::object()
                   .set("input", o.input)
                   .set("output", o.output)
                   .set("words", words)
                   .set("labels", labels)
                   .set("dim", static_cast<std::int64_t>(file.args.dim))
                   .dump();
  } else {
    summary << "wrote a fastText supervised model (" << words << " words, " << labels
            << " labels, dim " << file.args.dim << ") to " << o.output << '\n';
  }
  return 0;
}

int run_convert(const ConvertOptions& o) {
  const io::VectorFormat from = format_for(o.input, o.from, std::nullopt, "--from");
  // Checked before reading: an output in no known format fails before the work.
  const io::VectorFormat to = format_for(o.output, o.to, std::nullopt, "--to");
  std::vector<NamedFile> inputs;
  std::vector<NamedFile> outputs;
  add_vector_files(inputs, "IN", o.input, from, Direction::Input);
  add_vector_files(outputs, "OUT", o.output, to, Direction::Output);
  refuse_outputs_over_inputs(inputs, outputs);
  check_vectors_output(o.output, to);
  if (to == io::VectorFormat::FastTextModel && is_text_classifier(o.input, from)) {
    return convert_classifier(o);
  }
  const io::WordVectors v = load_vectors_argument(o.input, o.from, "--from");
  save_vectors_argument(o.output, v, to);
  const auto rows = v.matrix.size(0);
  const auto dim = v.matrix.size(1);
  std::ostream& summary = summary_stream(o.output);
  if (o.json) {
    summary << Json::object()
                   .set("input", o.input)
                   .set("output", o.output)
                   .set("words", rows)
                   .set("dim", dim)
                   .dump();
  } else {
    summary << "wrote " << rows << " words x " << dim << " to " << o.output << '\n';
  }
  return 0;
}

}  // namespace

Command add_convert(CLI::App& parent) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* app = parent.add_subcommand(
      "convert",
      "Convert word vectors between word2vec text/binary, GloVe, fastText .vec and .bin, .npy "
      "(+ .vocab side file) and safetensors; a text classifier --to fasttext-bin");
  app->add_option("IN", o->input, "Input file ('-': standard input)")->required();
  add_output(app, o->output,
             "Output file (replaced atomically); '-': standard output (every format but "
             "npy; binary ones only when it is not a terminal)",
             /*required=*/true, "OUT");
  app->add_option("--from", o->from, std::string("Input format: ") + kVectorFormatHelp)
      ->check(vector_format_validator());
  app->add_option("--to", o->to, std::string("Output format: ") + kVectorFormatHelp)
      ->check(vector_format_validator());
  app->add_flag("--json", o->json, "Print JSON");
  return Command{app, [o] { return run_convert(*o); }};
}

}  // namespace embedkit::cli
