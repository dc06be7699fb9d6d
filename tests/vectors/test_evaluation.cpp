// Analogy accuracy and word-pair Spearman on tiny files whose results were computed by hand
// on the royal vocabulary (vectors_test_support.hpp).
#include <gtest/gtest.h>

#include <cmath>

#include "embedkit/core/error.hpp"
#include "embedkit/vectors/evaluation.hpp"
#include "vectors/vectors_test_support.hpp"

namespace {

using namespace embedkit::vectors;
using embedkit_vectors_test::royal;

// "a b c d" asks b - a + c = d.
constexpr const char* kAnalogies =
    ": royalty\n"
    "man king woman queen\n"     // king - man + woman = queen: correct
    "king queen man woman\n"     // queen - king + man = (-0.41, 0, 0) -> woman: correct
    "man woman king apple\n"     // woman - man + king -> queen: incorrect
    "man king woman princess\n"  // princess is unknown: skipped
    "only three words\n"         // not a question: invalid
    ": folded\n"
    "MAN King WOMAN Queen\n";  // upper-cased alike: correct

TEST(Evaluation, AnalogyAccuracyPerSectionAndTotal) {
  const KeyedVectors kv = royal();
  const AnalogyResult r = evaluate_word_analogies_text(kv, kAnalogies, "<test>");
  ASSERT_EQ(r.sections.size(), 2u);
  EXPECT_EQ(r.sections[0].name, "royalty");
  EXPECT_EQ(r.sections[0].correct, 2);
  EXPECT_EQ(r.sections[0].incorrect, 1);
  EXPECT_EQ(r.sections[1].name, "folded");
  EXPECT_EQ(r.sections[1].correct, 1);
  EXPECT_EQ(r.sections[1].incorrect, 0);
  EXPECT_EQ(r.total.correct, 3);
  EXPECT_EQ(r.total.incorrect, 1);
  EXPECT_DOUBLE_EQ(r.total.accuracy(), 0.75);
  EXPECT_EQ(r.questions, 5);
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.invalid_lines, 1);
  EXPECT_DOUBLE_EQ(r.oov_ratio(), 20.0);
}

TEST(Evaluation, AnalogyCaseSensitiveSkipsFoldedWords) {
  const KeyedVectors kv = royal();
  AnalogyOptions options;
  options.case_insensitive = false;
  const AnalogyResult r = evaluate_word_analogies_text(kv, kAnalogies, "<test>", options);
  EXPECT_EQ(r.skipped, 2);  // princess, and the upper-case line
  EXPECT_EQ(r.total.correct, 2);
}

TEST(Evaluation, AnalogyRestrictVocabSkipsRareWords) {
  const KeyedVectors kv = royal();
  AnalogyOptions options;
  options.restrict_vocab = 3;  // man, king, woman: every question needs queen or apple
  const AnalogyResult r = evaluate_word_analogies_text(kv, kAnalogies, "<test>", options);
  EXPECT_EQ(r.skipped, 5);
  EXPECT_EQ(r.total.correct + r.total.incorrect, 0);
  EXPECT_DOUBLE_EQ(r.total.accuracy(), 0.0);
}

TEST(Evaluation, QuestionBeforeSectionIsAnError) {
  const KeyedVectors kv = royal();
  EXPECT_THROW((void)evaluate_word_analogies_text(kv, "man king woman queen\n", "<test>"),
               embedkit::IoError);
}

TEST(Evaluation, AverageRanksShareTies) {
  EXPECT_EQ(average_ranks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(average_ranks({3, 1, 2}), (std::vector<double>{3, 1, 2}));
}

TEST(Evaluation, WordPairsSpearmanByHand) {
  const KeyedVectors kv = royal();
  // Gold ranks [2, 4, 1, 3]; cosines [0, 0.707, -1, 0] rank [2.5, 4, 1, 2.5];
  // rho = 4.5 / sqrt(5 * 4.5) = sqrt(0.9).
  const char* pairs =
      "# word1\tword2\tscore\n"
      "king\tqueen\t3\n"
      "king\tman\t8\n"
      "man,woman,1\n"
      "KING\tapple\t5\n"
      "king\tprincess\t3\n"
      "\n"
      "not a pair\n";
  const SimilarityResult r = evaluate_word_pairs_text(kv, pairs);
  EXPECT_EQ(r.pairs, 4);
  EXPECT_EQ(r.oov_pairs, 1);
  EXPECT_EQ(r.invalid_lines, 1);
  EXPECT_DOUBLE_EQ(r.oov_ratio(), 20.0);
  EXPECT_NEAR(r.spearman, std::sqrt(0.9), 1e-12);
  EXPECT_TRUE(std::isfinite(r.pearson));
}

TEST(Evaluation, WordPairScoresOutOfRangeAreInvalidLinesNotZero) {
  const KeyedVectors kv = royal();
  // A score beyond double's range (or below its smallest value) does not parse; it was read as
  // a gold score of 0, which here would rank the pair lowest.
  for (const char* score : {"1e400", "-1e400", "1e-400", "nan", "inf"}) {
    SCOPED_TRACE(score);
    const std::string pairs =
        std::string("king\tqueen\t") + score + "\nking\tman\t8\nman,woman,1\nKING\tapple\t5\n";
    const SimilarityResult r = evaluate_word_pairs_text(kv, pairs);
    EXPECT_EQ(r.pairs, 3);
    EXPECT_EQ(r.invalid_lines, 1);
  }
}

TEST(Evaluation, SpearmanOfTooFewPairsIsNaN) {
  EXPECT_TRUE(std::isnan(spearman_correlation({1.0}, {2.0})));
  EXPECT_TRUE(std::isnan(spearman_correlation({1.0, 1.0}, {2.0, 3.0})));
  EXPECT_DOUBLE_EQ(spearman_correlation({1, 2, 3}, {30, 20, 10}), -1.0);
}

// The royal words, then "princess" (-1.3, 0.7, 0) as a word built from n-grams (row 5 on):
// nearer king - man + woman (3CosAdd: (-1.29, 0.71, 0)) than queen is.
KeyedVectors royal_with_built_princess() {
  std::vector<std::string> words = embedkit_vectors_test::royal_words();
  words.push_back("princess");
  std::vector<float> values = {1, 0, 0, 1, 1, 0, -1, 0, 0, -1, 1, 0, 0, 0, 2, -1.3f, 0.7f, 0};
  return KeyedVectors(std::move(words), embedkit::Tensor::from_floats(values, {6, 3}));
}

// A built word can be asked about, whatever restrict_vocab says, but is never an answer; the
// questions with one are counted apart.
TEST(Evaluation, BuiltWordsAreAskedButNeverAnswer) {
  const KeyedVectors kv = royal_with_built_princess();
  AnalogyOptions options;
  options.built_from = 5;
  options.restrict_vocab = 4;  // man, king, woman, queen; apple left out
  const AnalogyResult r = evaluate_word_analogies_text(kv,
                                                       ": royalty\n"
                                                       "man king woman princess\n"  // -> queen
                                                       "king princess man woman\n"  // correct
                                                       "man king woman queen\n"     // correct
                                                       "man king woman apple\n",    // skipped
                                                       "<test>", options);
  EXPECT_EQ(r.questions, 4);
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.built_questions, 2);
  EXPECT_EQ(r.total.correct, 2);
  EXPECT_EQ(r.total.incorrect, 1);
  EXPECT_EQ(r.in_vocabulary.correct, 1);
  EXPECT_EQ(r.in_vocabulary.incorrect, 0);
  // Without built_from the same row is an ordinary word, and the nearest answer.
  ASSERT_EQ(r.sections[0].incorrect, 1);
  AnalogyOptions plain;
  const AnalogyResult p =
      evaluate_word_analogies_text(kv, ": royalty\nman king woman princess\n", "<test>", plain);
  EXPECT_EQ(p.total.correct, 1);
  EXPECT_EQ(p.built_questions, 0);
}

TEST(Evaluation, BuiltWordsInPairsAreCountedApart) {
  const KeyedVectors kv = royal_with_built_princess();
  constexpr const char* kPairs = "man\tking\t5\nwoman\tqueen\t4\napple\tking\t1\n";
  SimilarityOptions options;
  options.built_from = 5;
  const SimilarityResult r =
      evaluate_word_pairs_text(kv, std::string(kPairs) + "princess\tqueen\t9\n", options);
  EXPECT_EQ(r.pairs, 4);
  EXPECT_EQ(r.oov_pairs, 0);
  EXPECT_EQ(r.built_pairs, 1);
  const SimilarityResult in_vocabulary = evaluate_word_pairs_text(royal(), kPairs);
  EXPECT_DOUBLE_EQ(r.spearman_in_vocabulary, in_vocabulary.spearman);
  EXPECT_DOUBLE_EQ(r.pearson_in_vocabulary, in_vocabulary.pearson);
}

}  // namespace
