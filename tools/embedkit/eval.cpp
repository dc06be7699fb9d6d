// `embedkit eval VECTORS`: analogy accuracy (questions-words format) and word-pair similarity
// (Spearman's rho), computed as gensim's evaluate_word_analogies / evaluate_word_pairs do.
//
// A file that yields nothing to measure (no question or pair with all its words in the
// vectors, or no line in the expected layout) is an error, not a 0% or a NaN with status 0.
// Any one of VECTORS, --analogies and --similarity may be '-' (standard input).
//
// With a fastText model that has subwords (subword_vectors.hpp), the words of the questions and
// pairs that are outside its vocabulary get their vectors from their character n-grams (under
// the default case-insensitive matching, from their lower-case spelling), so those questions
// are asked too; they are never an answer. The accuracy and the correlations are then reported
// with them and without them (the questions the vocabulary alone answers).
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/vectors/evaluation.hpp"
#include "json.hpp"
#include "std_streams.hpp"
#include "subword_vectors.hpp"
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

// A file's text, or standard input's for '-'.
std::string read_all(const std::string& path) {
  if (is_std_stream(path)) return read_standard_input();
  std::ifstream in;
  open_input_file(in, path, "a file of questions or pairs");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError(path, "read error");
  return text.str();
}

// The texts of --analogies and --similarity read up front (a subword model needs their words
// before the vectors are built), and the row where the built words start.
struct BuiltWords {
  std::optional<std::string> analogies, similarity;
  std::int64_t from = vectors::kAllWords;
};

std::vector<std::string_view> split_at(std::string_view line, std::string_view separators) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && separators.find(line[i]) != std::string_view::npos) ++i;
    const std::size_t start = i;
    while (i < line.size() && separators.find(line[i]) == std::string_view::npos) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// The words the questions (4 words a line) and the pairs (the first two of 3 fields) ask about.
std::vector<std::string> asked_words(const BuiltWords& texts) {
  std::vector<std::string> words;
  auto lines = [](const std::string& text, auto on_line) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) on_line(std::string_view(line));
  };
  if (texts.analogies) {
    lines(*texts.analogies, [&](std::string_view line) {
      if (line.starts_with(':')) return;
      const auto w = split_at(line, " \t\r\v\f");
      if (w.size() == 4) words.insert(words.end(), w.begin(), w.end());
    });
  }
  if (texts.similarity) {
    lines(*texts.similarity, [&](std::string_view line) {
      if (line.starts_with('#')) return;
      const bool tab = line.find('\t') != std::string_view::npos;
      const auto f = split_at(line, tab ? "\t\r" : ",\r");
      if (f.size() == 3) {
        for (int k = 0; k < 2; ++k) {
          std::string_view w = f[static_cast<std::size_t>(k)];
          while (!w.empty() && std::isspace(static_cast<unsigned char>(w.front())))
            w.remove_prefix(1);
          while (!w.empty() && std::isspace(static_cast<unsigned char>(w.back())))
            w.remove_suffix(1);
          if (!w.empty()) words.emplace_back(w);
        }
      }
    });
  }
  return words;
}

std::string fold(std::string w, bool upper) {
  for (char& c : w) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) c = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
  }
  return w;
}

// The model's vocabulary, then one row per asked word outside it (matched as eval matches:
// ASCII case folded unless --case-sensitive) that has n-grams.
vectors::KeyedVectors with_built_words(const QueryVectors& qv, BuiltWords& texts,
                                       bool case_sensitive) {
  const vectors::KeyedVectors& kv = qv.keyed();
  std::set<std::string> known;
  for (const std::string& w : kv.words()) known.insert(case_sensitive ? w : fold(w, true));
  std::vector<std::string> words = kv.words();
  std::vector<std::vector<float>> rows;
  for (const std::string& asked : asked_words(texts)) {
    const std::string key = case_sensitive ? asked : fold(asked, true);
    if (!known.insert(key).second) continue;
    // Matched without case: the lower-case spelling, the one most text uses.
    const std::string spelling = case_sensitive ? asked : fold(asked, false);
    if (auto v = qv.built_vector(spelling)) {
      words.push_back(spelling);
      rows.push_back(std::move(*v));
    }
  }
  texts.from = kv.size();
  Tensor matrix = Tensor::empty({static_cast<std::int64_t>(words.size()), kv.dim()});
  const auto dim = static_cast<std::size_t>(kv.dim());
  std::copy_n(kv.matrix().data<float>(), kv.size() * kv.dim(), matrix.data<float>());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy(rows[i].begin(), rows[i].end(),
              matrix.data<float>() + (static_cast<std::size_t>(kv.size()) + i) * dim);
  }
  // Read-only, so that KeyedVectors shares this matrix instead of copying it (a second copy of
  // the model's whole input vocabulary); its values are checked as queries reach them, as for a
  // mapped file (docs/memory-mapping.md), with the same scores bit for bit.
  return vectors::KeyedVectors(std::move(words), matrix.as_read_only());
}

// The analogy questions; an error when not one of them can be asked.
vectors::AnalogyResult evaluate_analogies(const vectors::KeyedVectors& kv, const EvalOptions& o,
                                          const BuiltWords& built) {
  vectors::AnalogyOptions options;
  options.restrict_vocab = o.restrict_vocab;
  options.case_insensitive = !o.case_sensitive;
  options.built_from = built.from;
  const std::string name = is_std_stream(o.analogies) ? std::string(kStdinName) : o.analogies;
  const vectors::AnalogyResult r =
      built.analogies ? vectors::evaluate_word_analogies_text(kv, *built.analogies, name, options)
      : is_std_stream(o.analogies)
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
vectors::SimilarityResult evaluate_similarity(const vectors::KeyedVectors& kv, const EvalOptions& o,
                                              const BuiltWords& built) {
  vectors::SimilarityOptions options;
  options.restrict_vocab = o.restrict_vocab;
  options.case_insensitive = !o.case_sensitive;
  options.built_from = built.from;
  const std::string name = is_std_stream(o.similarity) ? std::string(kStdinName) : o.similarity;
  const vectors::SimilarityResult r =
      built.similarity ? vectors::evaluate_word_pairs_text(kv, *built.similarity, options)
      : is_std_stream(o.similarity)
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
  const QueryVectors qv = QueryVectors::load(o.vectors, o.format);
  BuiltWords built;
  std::optional<vectors::KeyedVectors> extended;
  if (qv.has_subwords()) {
    if (!o.analogies.empty()) built.analogies = read_all(o.analogies);
    if (!o.similarity.empty()) built.similarity = read_all(o.similarity);
    extended.emplace(with_built_words(qv, built, o.case_sensitive));
  }
  const vectors::KeyedVectors& kv = extended ? *extended : qv.keyed();
  Json out = Json::object()
                 .set("vectors", o.vectors)
                 .set("words", qv.keyed().size())
                 .set("dim", kv.dim())
                 .set("restrict", o.restrict_vocab);
  if (!o.analogies.empty()) {
    const auto r = evaluate_analogies(kv, o, built);
    Json sections = Json::array();
    for (const auto& s : r.sections) sections.push(section_json(s));
    Json analogies = Json::object()
                         .set("file", o.analogies)
                         .set("sections", sections)
                         .set("total", section_json(r.total))
                         .set("questions", r.questions)
                         .set("covered", r.questions - r.skipped)
                         .set("skipped", r.skipped)
                         .set("oov_ratio_percent", r.oov_ratio())
                         .set("invalid_lines", r.invalid_lines);
    if (extended) {
      analogies.set("built_from_ngrams", r.built_questions)
          .set("in_vocabulary", section_json(r.in_vocabulary));
    }
    out.set("analogies", analogies);
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
      if (extended) {
        std::printf(
            "out of vocabulary, built from n-grams: %lld questions; without them: %.2f%%  "
            "(%lld/%lld)\n",
            static_cast<long long>(r.built_questions), 100.0 * r.in_vocabulary.accuracy(),
            static_cast<long long>(r.in_vocabulary.correct),
            static_cast<long long>(r.in_vocabulary.correct + r.in_vocabulary.incorrect));
      }
    }
  }
  if (!o.similarity.empty()) {
    const auto r = evaluate_similarity(kv, o, built);
    Json similarity = Json::object()
                          .set("file", o.similarity)
                          .set("spearman", r.spearman)
                          .set("pearson", r.pearson)
                          .set("pairs", r.pairs)
                          .set("oov_pairs", r.oov_pairs)
                          .set("oov_ratio_percent", r.oov_ratio())
                          .set("invalid_lines", r.invalid_lines);
    if (extended) {
      similarity.set("built_from_ngrams", r.built_pairs)
          .set("spearman_in_vocabulary", r.spearman_in_vocabulary)
          .set("pearson_in_vocabulary", r.pearson_in_vocabulary);
    }
    out.set("similarity", similarity);
    if (!o.json) {
      std::printf("similarity: spearman %.4f, pearson %.4f, pairs %lld, OOV pairs %lld (%.2f%%)\n",
                  r.spearman, r.pearson, static_cast<long long>(r.pairs),
                  static_cast<long long>(r.oov_pairs), r.oov_ratio());
      if (extended) {
        std::printf(
            "out of vocabulary, built from n-grams: %lld pairs; without them: spearman %.4f, "
            "pearson %.4f\n",
            static_cast<long long>(r.built_pairs), r.spearman_in_vocabulary,
            r.pearson_in_vocabulary);
      }
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
  // 0 would skip every question and pair (gensim's ok_vocab of 0 words), a certain failure
  // whose message blamed the file ("not in VECTORS"); `similar`'s --restrict 0 means all words.
  app->add_option("--restrict", o->restrict_vocab,
                  "Use only the N most frequent (first) words; questions with others are skipped")
      ->check(positive<std::int64_t>())
      ->capture_default_str();
  app->add_flag("--case-sensitive", o->case_sensitive,
                "Do not upper-case words before matching (gensim's case_insensitive=False)");
  app->add_option("--format", o->format, kVectorFormatHelp)->check(vector_format_validator());
  app->add_flag("--json", o->json, "Print JSON");
  return Command{app, [o] { return run_eval(*o); }};
}

}  // namespace embedkit::cli
