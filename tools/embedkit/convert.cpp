// `embedkit convert IN -o OUT`: word vectors from one format to another, bit for bit. The input
// is read and checked completely before OUT is written, and OUT is replaced atomically, so a
// bad input or a failed write never leaves a partial OUT. IN '-' is standard input and OUT '-'
// standard output (word2vec text unless --from / --to say otherwise; the summary then goes to
// stderr). An OUT that is IN itself (or IN's vocabulary side file) is refused.
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
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
      "Convert word vectors between word2vec text/binary, GloVe, fastText .vec, .npy (+ .vocab "
      "side file) and safetensors");
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
