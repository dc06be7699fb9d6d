// `embedkit convert IN OUT`: word vectors from one format to another, bit for bit. The input
// is read and checked completely before OUT is written, and OUT is replaced atomically, so a
// bad input or a failed write never leaves a partial OUT.
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
  const auto from = format_or_guess(o.from);
  const auto to = format_or_guess(o.to);
  const io::WordVectors v = io::load_word_vectors(o.input, from);
  io::save_word_vectors(o.output, v, to);
  const auto rows = v.matrix.size(0);
  const auto dim = v.matrix.size(1);
  if (o.json) {
    std::cout << Json::object()
                     .set("input", o.input)
                     .set("output", o.output)
                     .set("words", rows)
                     .set("dim", dim)
                     .dump();
  } else {
    std::cout << "wrote " << rows << " words x " << dim << " to " << o.output << '\n';
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
  app->add_option("IN", o->input, "Input file")->required();
  app->add_option("OUT", o->output, "Output file (replaced atomically)")->required();
  app->add_option("--from", o->from, std::string("Input format: ") + kVectorFormatHelp)
      ->check(vector_format_validator());
  app->add_option("--to", o->to, std::string("Output format: ") + kVectorFormatHelp)
      ->check(vector_format_validator());
  app->add_flag("--json", o->json, "Print JSON");
  return Command{app, [o] { return run_convert(*o); }};
}

}  // namespace embedkit::cli
