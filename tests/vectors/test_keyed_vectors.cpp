// KeyedVectors on the hand-made royal vocabulary: lookups, cosines, neighbours and analogies
// whose answers were worked out by hand (see vectors_test_support.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "embedkit/vectors/keyed_vectors.hpp"
#include "vectors/vectors_test_support.hpp"

namespace {

using embedkit::KeyError;
using embedkit::Tensor;
using embedkit::ValueError;
using embedkit::vectors::AnalogyMethod;
using embedkit::vectors::KeyedVectors;
using embedkit_vectors_test::royal;

TEST(KeyedVectors, LooksUpWordsAndVectors) {
  const KeyedVectors kv = royal();
  EXPECT_EQ(kv.size(), 5);
  EXPECT_EQ(kv.dim(), 3);
  EXPECT_EQ(kv.at("queen"), 3);
  EXPECT_EQ(kv.find("queen"), std::optional<std::int64_t>(3));
  EXPECT_EQ(kv.find("prince"), std::nullopt);
  EXPECT_TRUE(kv.contains("apple"));
  const auto v = kv.vector("apple");
  EXPECT_EQ(v[2], 2.0f);
  const auto u = kv.unit_vector("apple");
  EXPECT_EQ(u[2], 1.0f);
  EXPECT_NEAR(kv.similarity("king", "man"), std::sqrt(0.5), 1e-6);
}

TEST(KeyedVectors, UnknownWordIsAKeyErrorNamingIt) {
  const KeyedVectors kv = royal();
  try {
    (void)kv.most_similar("prince");
    FAIL() << "no exception";
  } catch (const KeyError& e) {
    EXPECT_EQ(e.key(), "prince");
    EXPECT_STREQ(e.what(), "word 'prince' is not in the vocabulary");
  }
  EXPECT_THROW((void)kv.analogy("king", "man", "princess"), KeyError);
}

TEST(KeyedVectors, ConstructorValidates) {
  using embedkit_vectors_test::royal_matrix;
  EXPECT_THROW(KeyedVectors({"a", "b"}, royal_matrix()), ValueError);
  EXPECT_THROW(KeyedVectors({"a", "b", "a", "c", "d"}, royal_matrix()), ValueError);
  EXPECT_THROW(KeyedVectors({"a", "", "c", "d", "e"}, royal_matrix()), ValueError);
  const Tensor nan = Tensor::from_floats({1.0f, std::nanf("")}, {1, 2});
  try {
    KeyedVectors({"bad"}, nan);
    FAIL() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'bad'"), std::string::npos);
  }
}

TEST(KeyedVectors, AKeyIndexIsTakenOverAndAnswersAsTheWords) {
  using embedkit_vectors_test::royal_matrix;
  using embedkit_vectors_test::royal_words;
  embedkit::KeyIndex index;
  for (const std::string& w : royal_words()) index.add(w);
  const KeyedVectors from_index(std::move(index), royal_matrix());
  const KeyedVectors from_words(royal_words(), royal_matrix());
  EXPECT_EQ(from_index.words(), from_words.words());
  EXPECT_EQ(from_index.find("queen"), from_words.find("queen"));
  const auto a = from_index.most_similar("king", 4), b = from_words.most_similar("king", 4);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].word, b[i].word);
    EXPECT_EQ(a[i].score, b[i].score);
  }
  // The same checks as the words' constructor, but for repeats (an index holds none).
  embedkit::KeyIndex two;
  two.add("a");
  two.add("b");
  EXPECT_THROW(KeyedVectors(two, royal_matrix()), ValueError);
  embedkit::KeyIndex with_empty;
  for (const char* w : {"a", "", "c", "d", "e"}) with_empty.add(w);
  try {
    KeyedVectors(with_empty, royal_matrix());
    FAIL() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "KeyedVectors: row 1 has an empty word");
  }
}

TEST(KeyedVectors, MostSimilarRanksByCosineWithTiesByRow) {
  const KeyedVectors kv = royal();
  const auto top = kv.most_similar("king", 4);
  ASSERT_EQ(top.size(), 4u);
  // man: cos 0.7071; queen and apple: exactly 0 (queen first: lower row); woman: -0.7071.
  EXPECT_EQ(top[0].word, "man");
  EXPECT_NEAR(top[0].score, std::sqrt(0.5), 1e-6);
  EXPECT_EQ(top[1].word, "queen");
  EXPECT_EQ(top[1].score, 0.0f);
  EXPECT_EQ(top[2].word, "apple");
  EXPECT_EQ(top[3].word, "woman");
  EXPECT_NEAR(top[3].score, -std::sqrt(0.5), 1e-6);
  // restrict_vocab = 3: only man, king, woman are candidates.
  const auto restricted = kv.most_similar("king", 10, 3);
  ASSERT_EQ(restricted.size(), 2u);
  EXPECT_EQ(restricted[1].word, "woman");
}

TEST(KeyedVectors, MostSimilarToAVectorExcludesTheGivenWords) {
  const KeyedVectors kv = royal();
  const std::vector<float> q = {0.0f, 0.0f, 5.0f};
  const auto top = kv.most_similar(q, 2);
  EXPECT_EQ(top[0].word, "apple");
  EXPECT_NEAR(top[0].score, 1.0f, 1e-6);
  const auto without = kv.most_similar(q, 1, {"apple"});
  EXPECT_NE(without[0].word, "apple");
}

TEST(KeyedVectors, BatchAgreesWithSingleQueries) {
  // 40 words on a circle (more than one vocabulary block is not needed for correctness, but
  // many queries exercise the query blocks).
  std::vector<std::string> words;
  std::vector<float> values;
  for (int i = 0; i < 40; ++i) {
    std::string word = "w";  // appended, not "w" + ...: GCC 12 warns falsely (-Wrestrict)
    word += std::to_string(i);
    words.push_back(word);
    values.push_back(static_cast<float>(std::cos(i * 0.3)));
    values.push_back(static_cast<float>(std::sin(i * 0.3)));
    values.push_back(static_cast<float>(i % 3));
  }
  const KeyedVectors kv(words, Tensor::from_floats(values, {40, 3}));
  std::vector<std::vector<std::int64_t>> exclude;
  for (std::int64_t i = 0; i < 40; ++i) exclude.push_back({i});
  const auto batch = kv.most_similar_batch(kv.matrix(), 5, exclude);
  for (int i = 0; i < 40; ++i) {
    const auto single = kv.most_similar(words[static_cast<std::size_t>(i)], 5);
    ASSERT_EQ(batch[static_cast<std::size_t>(i)].size(), single.size());
    for (std::size_t k = 0; k < single.size(); ++k) {
      EXPECT_EQ(batch[static_cast<std::size_t>(i)][k].word, single[k].word);
    }
  }
}

TEST(KeyedVectors, ANonFiniteQueryVectorIsAValueErrorNotZeroScores) {
  // A NaN or infinite value was normalized to a zero query, and every word scored 0.
  const KeyedVectors kv = royal();
  for (const float bad : {std::nanf(""), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()}) {
    const std::vector<float> q = {1.0f, bad, 0.0f};
    try {
      (void)kv.most_similar(q, 2);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("non-finite value at column 1"), std::string::npos)
          << e.what();
    }
  }
  Tensor batch = Tensor::from_floats({1, 0, 0, 0, 0, std::nanf("")}, {2, 3});
  EXPECT_THROW((void)kv.most_similar_batch(batch, 2, {}), ValueError);
}

TEST(KeyedVectors, AnalogyKingManWomanIsQueen) {
  const KeyedVectors kv = royal();
  // king - man + woman: q = unit(king) - man + woman = (-1.293, 0.707, 0).
  const auto add = kv.analogy("king", "man", "woman", AnalogyMethod::Add, 2);
  ASSERT_EQ(add.size(), 2u);
  EXPECT_EQ(add[0].word, "queen");
  const double qx = std::sqrt(0.5) - 2.0;
  const double qy = std::sqrt(0.5);
  EXPECT_NEAR(add[0].score, (-qx * std::sqrt(0.5) + qy * std::sqrt(0.5)) / std::hypot(qx, qy),
              1e-6);
  EXPECT_EQ(add[1].word, "apple");
  EXPECT_NEAR(add[1].score, 0.0f, 1e-6);

  // 3CosMul scores x by (1 + cos(x, king))/2 * (1 + cos(x, woman))/2 / ((1 + cos(x, man))/2
  // + 0.001). queen: 0.5 * 0.8536 / (0.1464 + 0.001); apple: 0.5 * 0.5 / (0.5 + 0.001).
  const auto mul = kv.analogy("king", "man", "woman", AnalogyMethod::Mul, 2);
  EXPECT_EQ(mul[0].word, "queen");
  const double c = (1.0 + std::sqrt(0.5)) / 2.0;
  EXPECT_NEAR(mul[0].score, 0.5 * c / ((1.0 - c) + 0.001), 1e-4);
  EXPECT_EQ(mul[1].word, "apple");
  EXPECT_NEAR(mul[1].score, 0.25 / 0.501, 1e-5);
}

TEST(KeyedVectors, BadArgumentsAreValueErrors) {
  const KeyedVectors kv = royal();
  EXPECT_THROW((void)kv.most_similar("king", -1), ValueError);
  EXPECT_THROW((void)kv.most_similar("king", 3, -2), ValueError);
  const std::vector<float> wrong = {1.0f, 2.0f};
  EXPECT_THROW((void)kv.most_similar(wrong, 3), ValueError);
  EXPECT_TRUE(kv.most_similar("king", 0).empty());
}

}  // namespace
