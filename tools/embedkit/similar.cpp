// `embedkit similar VECTORS WORD...`: the words nearest to each WORD by cosine similarity.
// Without WORD, or with '-' or --queries FILE, the words come from standard input or the file
// (separated by spaces or newlines, as fastText's `nn` reads them), answered in blocks
// (batch_queries.hpp) with the vectors loaded once. A fastText model with subwords answers
// words outside its vocabulary too (subword_vectors.hpp).
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "batch_queries.hpp"
#include "commands.hpp"
#include "json.hpp"
#include "subword_vectors.hpp"
#include "terminal_text.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {
namespace {

struct SimilarOptions {
  std::string vectors;
  std::vector<std::string> words;
  std::string queries;
  NeighborQuery query;
};

int run_similar(SimilarOptions& o) {
  if (!o.queries.empty() && !o.words.empty()) {
    throw ValueError("give the words either as arguments or with --queries, not both");
  }
  if (o.queries.empty() && (o.words.empty() || o.words == std::vector<std::string>{"-"})) {
    o.queries = "-";
  }
  refuse_two_stdin_readers(o.vectors, "VECTORS", o.queries);
  QueryVectors qv = QueryVectors::load(o.vectors, o.query.format);
  qv.use_ann_index(o.query, o.vectors, "similar");
  const vectors::KeyedVectors& kv = qv.keyed();
  // The neighbours of `word`, and in `json` whether it was built from its n-grams.
  auto neighbors = [&](const std::string& word, Json& json) {
    if (const auto built = qv.built_vector(word)) {
      std::cerr << QueryVectors::note("similar", word);
      json.set("out_of_vocabulary", true);
      return kv.most_similar(std::span<const float>(*built), o.query.k, {}, o.query.restrict_to());
    }
    return kv.most_similar(word, o.query.k, o.query.restrict_to());
  };
  if (o.queries.empty() && o.words.size() == 1) {
    Json json = Json::object().set("word", o.words[0]);
    const auto top = neighbors(o.words[0], json);
    if (o.query.json) {
      std::cout << json.set("neighbors", neighbors_json(top)).dump();
    } else {
      print_neighbors(top);
    }
    return 0;
  }
  QueryBlocks blocks("similar", o.query.json);
  auto answer = [&](const std::string& word) {
    blocks.answer(word, Json::object().set("word", word), [&] {
      Json json = Json::object().set("word", word);
      const auto top = neighbors(word, json);
      if (!o.query.json) print_neighbors(top);
      return json.set("neighbors", neighbors_json(top));
    });
  };
  if (o.queries.empty()) {
    for (const std::string& word : o.words) answer(word);
  } else {
    for_each_query_line(o.queries, "Query word? ", [&](const std::string& line) {
      for (const std::string& word : split_words(line)) answer(word);
    });
  }
  return blocks.finish();
}

}  // namespace

Command add_similar(CLI::App& parent) {
  auto o = std::make_shared<SimilarOptions>();
  CLI::App* app = parent.add_subcommand(
      "similar",
      "The words nearest to each WORD by cosine similarity (one 'word<TAB>score' a line; "
      "several words: a block each)");
  app->add_option("VECTORS", o->vectors, kVectorsInputHelp)->required();
  app->add_option("WORD", o->words,
                  "The words to look up; none or '-': read them from standard input");
  app->add_option("--queries", o->queries,
                  "Read the words from this file ('-': standard input), a block of answers each");
  add_neighbor_query_options(app, o->query, "How many neighbors");
  return Command{app, [o] { return run_similar(*o); }};
}

}  // namespace embedkit::cli
