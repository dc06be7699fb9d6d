// `embedkit similar VECTORS WORD`: the words nearest to WORD by cosine similarity.
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "json.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {
namespace {

struct SimilarOptions {
  std::string vectors;
  std::string word;
  std::string format;
  std::int64_t topn = 10;
  std::int64_t restrict_vocab = 0;
  bool json = false;
};

int run_similar(const SimilarOptions& o) {
  const vectors::KeyedVectors kv = load_keyed_vectors(o.vectors, o.format);
  const auto top =
      kv.most_similar(o.word, o.topn, o.restrict_vocab > 0 ? o.restrict_vocab : vectors::kAllWords);
  if (o.json) {
    Json neighbors = Json::array();
    for (const auto& nb : top) {
      neighbors.push(Json::object().set("word", nb.word).set("score", nb.score));
    }
    std::cout << Json::object().set("word", o.word).set("neighbors", neighbors).dump();
  } else {
    for (const auto& nb : top) std::cout << nb.word << '\t' << nb.score << '\n';
  }
  return 0;
}

}  // namespace

Command add_similar(CLI::App& parent) {
  auto o = std::make_shared<SimilarOptions>();
  CLI::App* app = parent.add_subcommand(
      "similar", "The words nearest to WORD by cosine similarity (one 'word<TAB>score' a line)");
  app->add_option("VECTORS", o->vectors, "Word-vector file")->required();
  app->add_option("WORD", o->word, "The word to look up")->required();
  app->add_option("--topn", o->topn, "How many neighbours")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--restrict", o->restrict_vocab,
                  "Search only the N most frequent (first) words; 0: all")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--format", o->format, kVectorFormatHelp)->check(vector_format_validator());
  app->add_flag("--json", o->json, "Print JSON");
  return Command{app, [o] { return run_similar(*o); }};
}

}  // namespace embedkit::cli
