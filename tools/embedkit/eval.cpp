// `embedkit eval VECTORS`: analogy accuracy (questions-words format) and word-pair similarity
// (Spearman's rho), computed as gensim's evaluate_word_analogies / evaluate_word_pairs do.
//
// A file that yields nothing to measure (no question or pair with all its words in the
// vectors, or no line in the expected layout) is an error, not a 0% or a NaN with status 0.
// Any one of VECTORS, --analogies and --similarity may be '-' (standard input).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "embedkit/core/error.hpp"
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

std::string restrict_note(std::int64_t restrict_vocab) {
  return restrict_vocab > 0
             ? " (the first " + std::to_string(restrict_vocab) + " words, --restrict)"
             : "";
}

// The analogy questions; an error when not one of them can be asked.
vectors::AnalogyResult evaluate_analogies(const vectors::KeyedVectors& kv, const EvalOptions& o) {
  vectors::AnalogyOptions options;
  options.restrict_vocab = o.restrict_vocab;
  options.case_insensitive = !o.case_sensitive;
  const std::string name = is_std_stream(o.analogies) ? std::string(kStdinName) : o.analogies;
  const vectors::AnalogyResult r =
      is_std_stream(o.analogies)
          ? vectors::evaluate_word_analogies_text(kv, read_standard_input(), name, options)
          : vectors::evaluate_word_analogies(kv, std::filesystem::path(o.analogies), options);
  if (r.questions == 0) {
    throw IoError(name, "no analogy questions: " + std::to_string(r.invalid_lines) +
                            " line(s) that are not 4 words and no ': section' line with "
                            "questions (expected the questions-words.txt layout)");
  }
  if (r.questions == r.skipped) {
    throw IoError(name, "none of the " + std::to_string(r.questions) +
                            " analogy questions can be asked: each has a word that is not in " +
                            o.vectors + restrict_note(o.restrict_vocab));
  }
  return r;
}

// The word pairs; an error when fewer than two can be scored (no correlation exists then).
vectors::SimilarityResult evaluate_similarity(const vectors::KeyedVectors& kv,
                                              const EvalOptions& o) {
  vectors::SimilarityOptions options;
  options.restrict_vocab = o.restrict_vocab;
  options.case_insensitive = !o.case_sensitive;
  const std::string name = is_std_stream(o.similarity) ? std::string(kStdinName) : o.similarity;
  const vectors::SimilarityResult r =
      is_std_stream(o.similarity)
          ? vectors::evaluate_word_pairs_text(kv, read_standard_input(), options)
          : vectors::evaluate_word_pairs(kv, std::filesystem::path(o.similarity), options);
  if (r.pairs + r.oov_pairs == 0) {
    throw IoError(name, "no word pairs: " + std::to_string(r.invalid_lines) +
                            " line(s) that are not 'word1<TAB>word2<TAB>score' (or "
                            "comma-separated) with a numeric score");
  }
  if (r.pairs < 2) {
    throw IoError(name, std::to_string(r.pairs) + " of " + std::to_string(r.pairs + r.oov_pairs) +
                            " word pairs can be scored (the others have a word that is not in " +
                            o.vectors + restrict_note(o.restrict_vocab) +
                            "): a correlation needs at least 2");
  }
  if (!std::isfinite(r.spearman)) {
    throw IoError(name, "the correlation is undefined: all " + std::to_string(r.pairs) +
                            " gold scores (or all similarities) are equal");
  }
  return r;
}

int run_eval(const EvalOptions& o) {
  if (o.analogies.empty() && o.similarity.empty()) {
    std::cerr << "embedkit eval: give --analogies FILE, --similarity FILE or both\n";
    return 2;
  }
  const int from_stdin =
      is_std_stream(o.vectors) + is_std_stream(o.analogies) + is_std_stream(o.similarity);
  if (from_stdin > 1) {
    std::cerr << "embedkit eval: only one of VECTORS, --analogies and --similarity can be '-' "
                 "(standard input is read once)\n";
    return 2;
  }
  const vectors::KeyedVectors kv = load_keyed_vectors(o.vectors, o.format);
  Json out = Json::object()
                 .set("vectors", o.vectors)
                 .set("words", kv.size())
                 .set("dim", kv.dim())
                 .set("restrict", o.restrict_vocab);
  if (!o.analogies.empty()) {
    const auto r = evaluate_analogies(kv, o);
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
    const auto r = evaluate_similarity(kv, o);
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
  app->add_option("VECTORS", o->vectors, kVectorsInputHelp)->required();
  app->add_option("--analogies", o->analogies,
                  "Analogy questions (questions-words.txt format: ': section' lines, then "
                  "'a b c d' asking b - a + c = d); '-': standard input");
  app->add_option("--similarity", o->similarity,
                  "Word pairs 'word1<TAB>word2<TAB>score' (or comma-separated; '#' comments), "
                  "e.g. wordsim353.tsv; '-': standard input");
  app->add_option("--restrict", o->restrict_vocab,
                  "Use only the N most frequent (first) words; questions with others are skipped")
      ->check(non_negative<std::int64_t>())
      ->capture_default_str();
  app->add_flag("--case-sensitive", o->case_sensitive,
                "Do not upper-case words before matching (gensim's case_insensitive=False)");
  app->add_option("--format", o->format, kVectorFormatHelp)->check(vector_format_validator());
  app->add_flag("--json", o->json, "Print JSON");
  return Command{app, [o] { return run_eval(*o); }};
}

}  // namespace embedkit::cli
