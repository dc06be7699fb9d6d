// `embedkit analogy VECTORS A B C`: the words X with A - B + C ~ X, i.e. "B is to A as C is to
// X" ("king man woman" -> queen). gensim: most_similar(positive=[A, C], negative=[B]).
// Without A B C, or with '-' or --queries FILE, one question "A B C" a line comes from
// standard input or the file (fastText's `analogies` reads them so), answered in blocks
// (batch_queries.hpp) with the vectors loaded once.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "batch_queries.hpp"
#include "commands.hpp"
#include "json.hpp"
#include "terminal_text.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {
namespace {

struct AnalogyOptions {
  std::string vectors;
  std::vector<std::string> words;  // A B C, or '-'
  std::string queries;
  std::string method = "add";
  NeighborQuery query;
};

Json question_json(const std::string& a, const std::string& b, const std::string& c,
                   const std::string& method) {
  return Json::object().set("a", a).set("b", b).set("c", c).set("method", method);
}

int run_analogy(AnalogyOptions& o) {
  const bool from_stdin = o.words.empty() || o.words == std::vector<std::string>{"-"};
  if (!o.queries.empty() && !o.words.empty()) {
    throw ValueError("give the words either as arguments A B C or with --queries, not both");
  }
  if (o.queries.empty() && from_stdin) o.queries = "-";
  refuse_two_stdin_readers(o.vectors, "VECTORS", o.queries);
  const vectors::KeyedVectors kv = load_keyed_vectors(o.vectors, o.query.format);
  const auto method = o.method == "mul" ? vectors::AnalogyMethod::Mul : vectors::AnalogyMethod::Add;
  if (o.queries.empty()) {
    const auto top =
        kv.analogy(o.words[0], o.words[1], o.words[2], method, o.query.k, o.query.restrict_to());
    if (o.query.json) {
      std::cout << question_json(o.words[0], o.words[1], o.words[2], o.method)
                       .set("answers", neighbors_json(top))
                       .dump();
    } else {
      print_neighbors(top);
    }
    return 0;
  }
  QueryBlocks blocks("analogy", o.query.json);
  for_each_query_line(o.queries, "Query triplet (A - B + C)? ", [&](const std::string& line) {
    const std::vector<std::string> w = split_words(line);
    const Json question = w.size() == 3 ? question_json(w[0], w[1], w[2], o.method)
                                        : Json::object().set("question", line);
    blocks.answer(line, question, [&] {
      if (w.size() != 3) {
        throw ValueError("'" + line + "': expected three words A B C (A - B + C), got " +
                         std::to_string(w.size()));
      }
      const auto top = kv.analogy(w[0], w[1], w[2], method, o.query.k, o.query.restrict_to());
      if (!o.query.json) print_neighbors(top);
      return Json(question).set("answers", neighbors_json(top));
    });
  });
  return blocks.finish();
}

}  // namespace

Command add_analogy(CLI::App& parent) {
  auto o = std::make_shared<AnalogyOptions>();
  CLI::App* app = parent.add_subcommand(
      "analogy",
      "Words nearest to A - B + C (\"king man woman\" -> queen; gensim's positive=[A, C], "
      "negative=[B]); the three words are excluded");
  app->add_option("VECTORS", o->vectors, kVectorsInputHelp)->required();
  app->add_option(
      "WORDS", o->words,
      "A B C: the added word (king), the subtracted word (man), the added word (woman); none "
      "or '-': "
      "read one question 'A B C' a line from standard input");
  app->add_option("--queries", o->queries,
                  "Read the questions, 'A B C' a line, from this file ('-': standard input)");
  app->add_option("--method", o->method,
                  "add: 3CosAdd (cosine with A - B + C); mul: 3CosMul (Levy & Goldberg 2014)")
      ->check(CLI::IsMember({"add", "mul"}))
      ->capture_default_str();
  add_neighbor_query_options(app, o->query, "How many answers");
  add_parse_check(app, [o] {
    const bool from_input = o->words.empty() || o->words == std::vector<std::string>{"-"};
    if (!from_input && o->words.size() != 3) {
      throw CLI::ValidationError("WORDS", "expected three words A B C (A - B + C), got " +
                                              std::to_string(o->words.size()));
    }
  });
  return Command{app, [o] { return run_analogy(*o); }};
}

}  // namespace embedkit::cli
