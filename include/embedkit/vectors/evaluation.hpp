// Intrinsic evaluation of word vectors, computed the way gensim's KeyedVectors does it:
// evaluate_word_analogies (questions-words.txt) and evaluate_word_pairs (wordsim353.tsv).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/vectors/keyed_vectors.hpp"

namespace embedkit::vectors {

struct AnalogySection {
  std::string name;  // "Total accuracy" for the total
  std::int64_t correct = 0;
  std::int64_t incorrect = 0;
  double accuracy() const {
    const std::int64_t n = correct + incorrect;
    return n == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(n);
  }
};

struct AnalogyResult {
  std::vector<AnalogySection> sections;  // in file order
  AnalogySection total;
  std::int64_t questions = 0;      // well-formed question lines (4 words)
  std::int64_t skipped = 0;        // questions with a word outside the restricted vocabulary
  std::int64_t invalid_lines = 0;  // lines that are not 4 words (skipped, as gensim does)
  // With built words (AnalogyOptions::built_from): the questions asked with one or more of
  // them, and the total of the others (what the model answers from its vocabulary alone).
  std::int64_t built_questions = 0;
  AnalogySection in_vocabulary;
  double oov_ratio() const {  // percent, as gensim reports it
    return questions == 0 ? 0.0
                          : 100.0 * static_cast<double>(skipped) / static_cast<double>(questions);
  }
};

struct AnalogyOptions {
  std::int64_t restrict_vocab = 300000;
  // gensim's case_insensitive=True: the vocabulary (its first restrict_vocab words) and the
  // questions are upper-cased; when several words upper-case alike, the most frequent wins.
  // Only ASCII letters are case-folded (Python's str.upper() also folds other scripts).
  bool case_insensitive = true;
  // Rows from built_from on hold words outside the model's vocabulary whose vectors were built
  // from their character n-grams (a fastText model's): a question may use them whatever
  // restrict_vocab says, they are never an answer, and the result counts those questions apart
  // (built_questions, in_vocabulary). kAllWords: none.
  std::int64_t built_from = kAllWords;
};

// The file's text (evaluate_word_analogies_text) or the file itself. Lines ": name" start a
// section; other lines are "a b c expected" (whitespace-separated), asking b - a + c ~ expected by
// 3CosAdd among the first restrict_vocab words, a, b, c excluded (gensim's top-5 rule: the first of
// the 5 best that is not an input word). A question with any word outside the restricted vocabulary
// is skipped; a line that is not 4 words is skipped and counted in invalid_lines. A question before
// any section is an IoError.
AnalogyResult evaluate_word_analogies_text(const KeyedVectors& kv, std::string_view text,
                                           const std::string& source_name,
                                           const AnalogyOptions& options = {});
AnalogyResult evaluate_word_analogies(const KeyedVectors& kv, const std::filesystem::path& path,
                                      const AnalogyOptions& options = {});

struct SimilarityResult {
  double spearman = 0.0;  // NaN when fewer than 2 pairs or a constant column
  double pearson = 0.0;
  std::int64_t pairs = 0;          // pairs scored
  std::int64_t oov_pairs = 0;      // pairs with a word outside the restricted vocabulary
  std::int64_t invalid_lines = 0;  // lines that are not word1, word2, score
  // With built words (SimilarityOptions::built_from): the pairs scored with one or more of
  // them (counted in `pairs` too), and the correlations over the other pairs alone.
  std::int64_t built_pairs = 0;
  double spearman_in_vocabulary = 0.0;
  double pearson_in_vocabulary = 0.0;
  double oov_ratio() const {  // percent, as gensim reports it
    const std::int64_t n = pairs + oov_pairs;
    return n == 0 ? 0.0 : 100.0 * static_cast<double>(oov_pairs) / static_cast<double>(n);
  }
};

struct SimilarityOptions {
  std::int64_t restrict_vocab = 300000;
  bool case_insensitive = true;
  std::int64_t built_from = kAllWords;  // as AnalogyOptions::built_from
};

// Lines "word1<TAB>word2<TAB>score" (or comma-separated when the line has no tab); empty lines
// and lines starting with '#' are ignored. Spearman's rho uses average ranks for ties (as
// scipy.stats.spearmanr) between the gold scores and the cosine similarities.
SimilarityResult evaluate_word_pairs_text(const KeyedVectors& kv, std::string_view text,
                                          const SimilarityOptions& options = {});
SimilarityResult evaluate_word_pairs(const KeyedVectors& kv, const std::filesystem::path& path,
                                     const SimilarityOptions& options = {});

// Ranks 1..n, ties given their average rank.
std::vector<double> average_ranks(const std::vector<double>& values);
double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y);
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace embedkit::vectors
