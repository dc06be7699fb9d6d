// `embedkit eval VECTORS`: analogy accuracy (questions-words format) and word-pair similarity
// (Spearman's rho), computed as gensim's evaluate_word_analogies / evaluate_word_pairs do.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "embedkit/vectors/evaluation.hpp"
#include "json.hpp"
#include "vectors_options.hpp"

namespace embedkit::cli {
namespace {

struct EvalOptions {
  std::string vectors;
  std::string format;
  std::string analogies;
  std::string similarity;
  std::int64_t restrict_vocab = 300000;
  bool case_sensitive = false;
  bool json = false;
};

Json section_json(const vectors::AnalogySection& s) {
  return Json::object()
      .set("section", s.name)
      .set("correct", s.correct)
      .set("incorrect", s.incorrect)
      .set("accuracy", s.accuracy());
}

int run_eval(const EvalOptions& o) {
  if (o.analogies.empty() && o.similarity.empty()) {
    std::cerr << "embedkit eval: give --analogies FILE, --similarity FILE or both\n";
    return 2;
  }
  const vectors::KeyedVectors kv = load_keyed_vectors(o.vectors, o.format);
  Json out = Json::object()
                 .set("vectors", o.vectors)
                 .set("words", kv.size())
                 .set("dim", kv.dim())
                 .set("restrict", o.restrict_vocab);
  if (!o.analogies.empty()) {
    vectors::AnalogyOptions options;
    options.restrict_vocab = o.restrict_vocab;
    options.case_insensitive = !o.case_sensitive;
    const auto r =
        vectors::evaluate_word_analogies(kv, std::filesystem::path(o.analogies), options);
    Json sections = Json::array();
    for (const auto& s : r.sections) sections.push(section_json(s));
    out.set("analogies", Json::object()
                             .set("file", o.analogies)
                             .set("sections", sections)
                             .set("total", section_json(r.total))
                             .set("questions", r.questions)
                             .set("covered", r.questions - r.skipped)
                             .set("skipped", r.skipped)
                             .set("oov_ratio_percent", r.oov_ratio())
                             .set("invalid_lines", r.invalid_lines));
    if (!o.json) {
      for (const auto& s : r.sections) {
        std::printf("%-32s %6.2f%%  (%lld/%lld)\n", s.name.c_str(), 100.0 * s.accuracy(),
                    static_cast<long long>(s.correct),
                    static_cast<long long>(s.correct + s.incorrect));
      }
      std::printf("%-32s %6.2f%%  (%lld/%lld)\n", "Total accuracy", 100.0 * r.total.accuracy(),
                  static_cast<long long>(r.total.correct),
                  static_cast<long long>(r.total.correct + r.total.incorrect));
      std::printf("questions: %lld, covered: %lld, skipped (OOV): %lld (%.2f%%)\n",
                  static_cast<long long>(r.questions),
                  static_cast<long long>(r.questions - r.skipped),
                  static_cast<long long>(r.skipped), r.oov_ratio());
    }
  }
  if (!o.similarity.empty()) {
    vectors::SimilarityOptions options;
    options.restrict_vocab = o.restrict_vocab;
    options.case_insensitive = !o.case_sensitive;
    const auto r = vectors::evaluate_word_pairs(kv, std::filesystem::path(o.similarity), options);
    out.set("similarity", Json::object()
                              .set("file", o.similarity)
                              .set("spearman", r.spearman)
                              .set("pearson", r.pearson)
                              .set("pairs", r.pairs)
                              .set("oov_pairs", r.oov_pairs)
                              .set("oov_ratio_percent", r.oov_ratio())
                              .set("invalid_lines", r.invalid_lines));
    if (!o.json) {
      std::printf("similarity: spearman %.4f, pearson %.4f, pairs %lld, OOV pairs %lld (%.2f%%)\n",
                  r.spearman, r.pearson, static_cast<long long>(r.pairs),
                  static_cast<long long>(r.oov_pairs), r.oov_ratio());
    }
  }
  if (o.json) std::cout << out.dump();
  return 0;
}

}  // namespace

Command add_eval(CLI::App& parent) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* app = parent.add_subcommand(
      "eval", "Analogy accuracy and word-similarity correlation, as gensim computes them");
  app->add_option("VECTORS", o->vectors, "Word-vector file")->required();
  app->add_option("--analogies", o->analogies,
                  "Analogy questions (questions-words.txt format: ': section' lines, then "
                  "'a b c d' asking b - a + c = d)");
  app->add_option("--similarity", o->similarity,
                  "Word pairs 'word1<TAB>word2<TAB>score' (or comma-separated; '#' comments), "
                  "e.g. wordsim353.tsv");
  app->add_option("--restrict", o->restrict_vocab,
                  "Use only the N most frequent (first) words; questions with others are skipped")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_flag("--case-sensitive", o->case_sensitive,
                "Do not upper-case words before matching (gensim's case_insensitive=False)");
  app->add_option("--format", o->format, kVectorFormatHelp)->check(vector_format_validator());
  app->add_flag("--json", o->json, "Print JSON");
  return Command{app, [o] { return run_eval(*o); }};
}

}  // namespace embedkit::cli
