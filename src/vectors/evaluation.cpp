// Word-analogy accuracy and word-pair similarity correlation, following gensim's
// KeyedVectors.evaluate_word_analogies and evaluate_word_pairs step by step.
#include "embedkit/vectors/evaluation.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "embedkit/core/error.hpp"
#include "io/file_reading.hpp"

namespace embedkit::vectors {
namespace {

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// gensim's ok_vocab: the first `restrict_vocab` words (case-folded when asked); for words
// that fold alike, the most frequent (lowest) row wins, as gensim's reversed() insertion does.
std::unordered_map<std::string, std::int64_t> ok_vocab(const KeyedVectors& kv, std::int64_t limit,
                                                       bool fold) {
  if (limit < 0) throw ValueError("restrict_vocab must be >= 0");
  const std::int64_t n = std::min(limit, kv.size());
  std::unordered_map<std::string, std::int64_t> ok;
  ok.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::string& w = kv.words()[static_cast<std::size_t>(i)];
    ok.emplace(fold ? upper_ascii(w) : w, i);
  }
  return ok;
}

// The built words (rows from `from` on; AnalogyOptions::built_from), folded alike.
std::unordered_map<std::string, std::int64_t> built_vocab(const KeyedVectors& kv, std::int64_t from,
                                                          bool fold) {
  std::unordered_map<std::string, std::int64_t> built;
  for (std::int64_t i = std::max<std::int64_t>(from, 0); i < kv.size(); ++i) {
    const std::string& w = kv.words()[static_cast<std::size_t>(i)];
    built.emplace(fold ? upper_ascii(w) : w, i);
  }
  return built;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::vector<std::string_view> split_space(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) break;
    const std::size_t s = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    out.push_back(line.substr(s, i - s));
  }
  return out;
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t pos = 0;
  std::int64_t number = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    f(text.substr(pos, end - pos), ++number);
    pos = end + 1;
  }
}

// Through read_file_bytes, whose errors name the file: a directory read through a stream threw
// the standard library's "basic_filebuf::underflow error reading the file", without the path.
std::string read_text(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = io::detail::read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

struct Question {
  std::size_t section;
  std::array<std::int64_t, 3> rows;  // b, a, c: the query b - a + c
  std::array<std::string, 3> keys;   // the folded a, b, c (gensim's `ignore`)
  std::string expected;
  bool built;  // asked with a built word (AnalogyOptions::built_from)
};

}  // namespace

AnalogyResult evaluate_word_analogies_text(const KeyedVectors& kv, std::string_view text,
                                           const std::string& source_name,
                                           const AnalogyOptions& options) {
  const std::int64_t searched = std::min(options.restrict_vocab, options.built_from);
  const auto ok = ok_vocab(kv, searched, options.case_insensitive);
  const auto built = built_vocab(kv, options.built_from, options.case_insensitive);
  AnalogyResult result;
  std::vector<Question> questions;
  for_each_line(text, [&](std::string_view line, std::int64_t number) {
    if (line.starts_with(": ")) {
      // Python's line.lstrip(': ').strip().
      std::string_view name = line;
      while (!name.empty() && (name.front() == ':' || name.front() == ' ')) name.remove_prefix(1);
      result.sections.push_back(AnalogySection{std::string(strip(name)), 0, 0});
      return;
    }
    if (result.sections.empty()) {
      throw IoError(source_name, "line " + std::to_string(number) +
                                     ": a question before the first ': section' line");
    }
    const auto words = split_space(line);
    if (words.size() != 4) {
      ++result.invalid_lines;
      return;
    }
    ++result.questions;
    std::array<std::string, 4> w;
    std::array<std::int64_t, 4> rows{};
    bool uses_built = false;
    for (std::size_t k = 0; k < 4; ++k) {
      w[k] = options.case_insensitive ? upper_ascii(words[k]) : std::string(words[k]);
      const auto it = ok.find(w[k]);
      if (it != ok.end()) {
        rows[k] = it->second;
        continue;
      }
      const auto b = built.find(w[k]);
      if (b == built.end()) {
        ++result.skipped;
        return;
      }
      rows[k] = b->second;
      uses_built = true;
    }
    result.built_questions += uses_built;
    questions.push_back(Question{result.sections.size() - 1,
                                 {rows[1], rows[0], rows[2]},
                                 {w[0], w[1], w[2]},
                                 w[3],
                                 uses_built});
  });

  // Answered in batches so the per-batch state stays small.
  constexpr std::size_t kBatch = 2048;
  for (std::size_t q0 = 0; q0 < questions.size(); q0 += kBatch) {
    const std::size_t q1 = std::min(questions.size(), q0 + kBatch);
    std::vector<std::array<std::int64_t, 3>> batch;
    for (std::size_t q = q0; q < q1; ++q) batch.push_back(questions[q].rows);
    const auto answers = kv.analogy_batch(batch, 5, searched);
    for (std::size_t q = q0; q < q1; ++q) {
      const Question& question = questions[q];
      std::string predicted;
      for (const Neighbor& nb : answers[q - q0]) {
        predicted = options.case_insensitive ? upper_ascii(nb.word) : nb.word;
        const bool ignored =
            std::find(question.keys.begin(), question.keys.end(), predicted) != question.keys.end();
        if (ok.count(predicted) && !ignored) break;
      }
      AnalogySection& section = result.sections[question.section];
      const bool correct = predicted == question.expected;
      (correct ? section.correct : section.incorrect) += 1;
      if (!question.built)
        (correct ? result.in_vocabulary.correct : result.in_vocabulary.incorrect) += 1;
    }
  }
  result.total.name = "Total accuracy";
  result.in_vocabulary.name = "In-vocabulary accuracy";
  for (const AnalogySection& s : result.sections) {
    result.total.correct += s.correct;
    result.total.incorrect += s.incorrect;
  }
  return result;
}

AnalogyResult evaluate_word_analogies(const KeyedVectors& kv, const std::filesystem::path& path,
                                      const AnalogyOptions& options) {
  return evaluate_word_analogies_text(kv, read_text(path), path.string(), options);
}

SimilarityResult evaluate_word_pairs_text(const KeyedVectors& kv, std::string_view text,
                                          const SimilarityOptions& options) {
  const auto ok =
      ok_vocab(kv, std::min(options.restrict_vocab, options.built_from), options.case_insensitive);
  const auto built = built_vocab(kv, options.built_from, options.case_insensitive);
  SimilarityResult result;
  std::vector<double> gold, gold_in_vocabulary;
  std::vector<double> model, model_in_vocabulary;
  // Each pair's two rows scaled by their inverse norms (KeyedVectors::unit_row), as the queries
  // scale them: the values unit_matrix() would hold, bit for bit, without its copy of the whole
  // matrix (on a mapped file, a pass over all of it before the first pair), and only the blocks of
  // rows the pairs reach have their norms computed (docs/memory-mapping.md).
  std::vector<float> unit_a(static_cast<std::size_t>(kv.dim()));
  std::vector<float> unit_b(unit_a.size());
  for_each_line(text, [&](std::string_view line, std::int64_t) {
    if (strip(line).empty() || line.starts_with("#")) return;
    const char delimiter = line.find('\t') != std::string_view::npos ? '\t' : ',';
    std::vector<std::string_view> fields;
    std::size_t pos = 0;
    while (true) {
      const std::size_t d = line.find(delimiter, pos);
      fields.push_back(strip(line.substr(pos, d == std::string_view::npos ? d : d - pos)));
      if (d == std::string_view::npos) break;
      pos = d + 1;
    }
    // A score out of double's range (1e400) is an invalid line, as NaN and infinity are:
    // from_chars then leaves `score` as it was (0), which would count as a gold score of 0.
    double score = 0.0;
    bool valid = fields.size() == 3 && !fields[0].empty() && !fields[1].empty();
    if (valid) {
      const char* end = fields[2].data() + fields[2].size();
      const auto [ptr, ec] = std::from_chars(fields[2].data(), end, score);
      valid = ptr == end && ec == std::errc() && std::isfinite(score);
    }
    if (!valid) {
      ++result.invalid_lines;
      return;
    }
    const std::string a =
        options.case_insensitive ? upper_ascii(fields[0]) : std::string(fields[0]);
    const std::string b =
        options.case_insensitive ? upper_ascii(fields[1]) : std::string(fields[1]);
    bool uses_built = false;
    auto row_of = [&](const std::string& word) -> std::int64_t {
      if (const auto it = ok.find(word); it != ok.end()) return it->second;
      if (const auto it = built.find(word); it != built.end()) {
        uses_built = true;
        return it->second;
      }
      return -1;
    };
    const std::int64_t ia = row_of(a);
    const std::int64_t ib = row_of(b);
    if (ia < 0 || ib < 0) {
      ++result.oov_pairs;
      return;
    }
    kv.unit_row(ia, unit_a.data());
    kv.unit_row(ib, unit_b.data());
    // Summed in double in ascending column order: the figures eval has always printed.
    double cos = 0.0;
    for (std::size_t j = 0; j < unit_a.size(); ++j) {
      cos += static_cast<double>(unit_a[j]) * unit_b[j];
    }
    gold.push_back(score);
    model.push_back(cos);
    result.built_pairs += uses_built;
    if (!uses_built) {
      gold_in_vocabulary.push_back(score);
      model_in_vocabulary.push_back(cos);
    }
  });
  result.pairs = static_cast<std::int64_t>(gold.size());
  result.spearman = spearman_correlation(gold, model);
  result.pearson = pearson_correlation(gold, model);
  result.spearman_in_vocabulary = spearman_correlation(gold_in_vocabulary, model_in_vocabulary);
  result.pearson_in_vocabulary = pearson_correlation(gold_in_vocabulary, model_in_vocabulary);
  return result;
}

SimilarityResult evaluate_word_pairs(const KeyedVectors& kv, const std::filesystem::path& path,
                                     const SimilarityOptions& options) {
  return evaluate_word_pairs_text(kv, read_text(path), options);
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return values[x] < values[y]; });
  std::vector<double> ranks(values.size());
  std::size_t i = 0;
  while (i < order.size()) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    // Positions i..j (0-based) share the mean of ranks i+1..j+1.
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw ValueError("pearson_correlation: sizes differ");
  if (x.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0.0;
  double sxx = 0.0;
  double syy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0.0 || syy == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson_correlation(average_ranks(x), average_ranks(y));
}

}  // namespace embedkit::vectors
