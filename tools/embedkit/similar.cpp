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
  NeighborQuery query;
};

int run_similar(const SimilarOptions& o) {
  const vectors::KeyedVectors kv = load_keyed_vectors(o.vectors, o.query.format);
  const auto top = kv.most_similar(o.word, o.query.topn, o.query.restrict_to());
  if (o.query.json) {
    std::cout << Json::object().set("word", o.word).set("neighbors", neighbors_json(top)).dump();
  } else {
    print_neighbors(top);
  }
  return 0;
}

}  // namespace

Command add_similar(CLI::App& parent) {
  auto o = std::make_shared<SimilarOptions>();
  CLI::App* app = parent.add_subcommand(
      "similar", "The words nearest to WORD by cosine similarity (one 'word<TAB>score' a line)");
  app->add_option("VECTORS", o->vectors, kVectorsInputHelp)->required();
  app->add_option("WORD", o->word, "The word to look up")->required();
  add_neighbor_query_options(app, o->query, "How many neighbors");
  return Command{app, [o] { return run_similar(*o); }};
}

}  // namespace embedkit::cli
