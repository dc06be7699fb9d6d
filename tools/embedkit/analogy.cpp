// `embedkit analogy VECTORS A B C`: the words X with A - B + C ~ X, i.e. "B is to A as C is to
// X" ("king man woman" -> queen). gensim: most_similar(positive=[A, C], negative=[B]).
// Without A B C, or with '-' or --queries FILE, one question "A B C" a line comes from
// standard input or the file (fastText's `analogies` reads them so), answered in blocks
// (batch_queries.hpp) with the vectors loaded once. A fastText model with subwords answers
// questions with words outside its vocabulary too (subword_vectors.hpp; --method add).
#include <cmath>
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
  QueryVectors qv = QueryVectors::load(o.vectors, o.query.format);
  qv.use_ann_index(o.query, o.vectors, "analogy");
  const vectors::KeyedVectors& kv = qv.keyed();
  const auto method = o.method == "mul" ? vectors::AnalogyMethod::Mul : vectors::AnalogyMethod::Add;
  // A - B + C; with subwords, words outside the vocabulary built from their n-grams (3CosAdd:
  // the sum of the unit vectors, the words in the vocabulary excluded from the answers), and
  // in `json` which ones were.
  auto answers = [&](const std::string& a, const std::string& b, const std::string& c, Json& json) {
    if (!qv.has_subwords()) return kv.analogy(a, b, c, method, o.query.k, o.query.restrict_to());
    std::vector<std::string> built_words;
    std::vector<std::vector<float>> unit;
    for (const std::string* w : {&a, &b, &c}) {
      std::vector<float> v;
      if (const auto built = qv.built_vector(*w)) {
        built_words.push_back(*w);
        v = *built;
      } else {
        const auto u = kv.vector(*w);  // the unknown-word error when it has no n-gram either
        v.assign(u.begin(), u.end());
      }
      double norm = 0;
      for (const float x : v) norm += static_cast<double>(x) * x;
      const auto scale = static_cast<float>(norm > 0 ? 1.0 / std::sqrt(norm) : 0.0);
      for (float& x : v) x *= scale;
      unit.push_back(std::move(v));
    }
    if (built_words.empty()) return kv.analogy(a, b, c, method, o.query.k, o.query.restrict_to());
    if (method == vectors::AnalogyMethod::Mul) {
      throw ValueError("--method mul needs A, B and C in the vocabulary ('" + built_words[0] +
                       "' is not); --method add builds a word outside it from its n-grams");
    }
    Json oov = Json::array();
    for (const std::string& w : built_words) {
      std::cerr << QueryVectors::note("analogy", w);
      oov.push(w);
    }
    json.set("out_of_vocabulary", oov);
    std::vector<float> query(static_cast<std::size_t>(kv.dim()), 0.0f);
    for (std::size_t j = 0; j < query.size(); ++j) query[j] = unit[0][j] - unit[1][j] + unit[2][j];
    std::vector<std::string> exclude;
    for (const std::string* w : {&a, &b, &c}) {
      if (kv.contains(*w)) exclude.push_back(*w);
    }
    return kv.most_similar(std::span<const float>(query), o.query.k, exclude,
                           o.query.restrict_to());
  };
  if (o.queries.empty()) {
    Json json = question_json(o.words[0], o.words[1], o.words[2], o.method);
    const auto top = answers(o.words[0], o.words[1], o.words[2], json);
    if (o.query.json) {
      std::cout << json.set("answers", neighbors_json(top)).dump();
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
      Json json = question;
      const auto top = answers(w[0], w[1], w[2], json);
      if (!o.query.json) print_neighbors(top);
      return json.set("answers", neighbors_json(top));
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
