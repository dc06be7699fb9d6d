// `embedkit analogy VECTORS A B C`: the words X with A - B + C ~ X, i.e. "B is to A as C is to
// X" ("king man woman" -> queen). gensim: most_similar(positive=[A, C], negative=[B]).
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "json.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {
namespace {

struct AnalogyOptions {
  std::string vectors;
  std::string a;
  std::string b;
  std::string c;
  std::string method = "add";
  NeighborQuery query;
};

int run_analogy(const AnalogyOptions& o) {
  const vectors::KeyedVectors kv = load_keyed_vectors(o.vectors, o.query.format);
  const auto method = o.method == "mul" ? vectors::AnalogyMethod::Mul : vectors::AnalogyMethod::Add;
  const auto top = kv.analogy(o.a, o.b, o.c, method, o.query.topn, o.query.restrict_to());
  if (o.query.json) {
    std::cout << Json::object()
                     .set("a", o.a)
                     .set("b", o.b)
                     .set("c", o.c)
                     .set("method", o.method)
                     .set("answers", neighbors_json(top))
                     .dump();
  } else {
    print_neighbors(top);
  }
  return 0;
}

}  // namespace

Command add_analogy(CLI::App& parent) {
  auto o = std::make_shared<AnalogyOptions>();
  CLI::App* app = parent.add_subcommand(
      "analogy",
      "Words nearest to A - B + C (\"king man woman\" -> queen; gensim's positive=[A, C], "
      "negative=[B]); the three words are excluded");
  app->add_option("VECTORS", o->vectors, kVectorsInputHelp)->required();
  app->add_option("A", o->a, "Added word (king)")->required();
  app->add_option("B", o->b, "Subtracted word (man)")->required();
  app->add_option("C", o->c, "Added word (woman)")->required();
  app->add_option("--method", o->method,
                  "add: 3CosAdd (cosine with A - B + C); mul: 3CosMul (Levy & Goldberg 2014)")
      ->check(CLI::IsMember({"add", "mul"}))
      ->capture_default_str();
  add_neighbor_query_options(app, o->query, "How many answers");
  return Command{app, [o] { return run_analogy(*o); }};
}

}  // namespace embedkit::cli
