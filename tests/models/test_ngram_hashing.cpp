#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/models/ngram_hashing.hpp"

namespace embedkit::models {
namespace {

TEST(WordHash, IsFnv1aOnAsciiWords) {
  // Published FNV-1a 32-bit test vectors.
  EXPECT_EQ(word_hash(""), 2166136261u);
  EXPECT_EQ(word_hash("a"), 0xe40c292cu);
  EXPECT_EQ(word_hash("foobar"), 0xbf9cf968u);
}

TEST(WordHash, SignExtendsHighBytesAsFastText) {
  // fastText xors each byte as a signed char widened to 32 bits: 0xC3 enters as 0xFFFFFFC3.
  std::uint32_t expected = 2166136261u;
  for (const std::uint32_t b : {0xFFFFFFC3u, 0xFFFFFFA9u}) {
    expected ^= b;
    expected *= 16777619u;
  }
  EXPECT_EQ(word_hash("\xC3\xA9"), expected);
}

TEST(WordNgrams, BigramsInOrderWithOffset) {
  const std::vector<std::uint32_t> h = {word_hash("not"), word_hash("good"), word_hash("at")};
  std::vector<std::int64_t> out = {7};  // appends
  append_word_ngrams(h, 2, 1000, 50, out);
  ASSERT_EQ(out.size(), 3u);  // the 7, then 2 bigrams
  EXPECT_EQ(out[0], 7);
  auto widen = [](std::uint32_t x) {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(x)));
  };
  const std::uint64_t first = widen(h[0]) * 116049371u + widen(h[1]);
  const std::uint64_t second = widen(h[1]) * 116049371u + widen(h[2]);
  EXPECT_EQ(out[1], 50 + static_cast<std::int64_t>(first % 1000));
  EXPECT_EQ(out[2], 50 + static_cast<std::int64_t>(second % 1000));
}

TEST(WordNgrams, CountsRangeAndOrderSensitivity) {
  std::vector<std::uint32_t> h;
  for (int i = 0; i < 10; ++i) {
    std::string w = "w";
    w += std::to_string(i);
    h.push_back(word_hash(w));
  }
  std::vector<std::int64_t> out;
  append_word_ngrams(h, 3, 97, 1000, out);
  EXPECT_EQ(out.size(), 9u + 8u);  // 9 bigrams, 8 trigrams
  for (const std::int64_t id : out) {
    EXPECT_GE(id, 1000);
    EXPECT_LT(id, 1097);
  }
  // "a b" and "b a" land in different buckets (order matters).
  std::vector<std::int64_t> ab, ba;
  append_word_ngrams(std::vector<std::uint32_t>{word_hash("a"), word_hash("b")}, 2, 1 << 20, 0, ab);
  append_word_ngrams(std::vector<std::uint32_t>{word_hash("b"), word_hash("a")}, 2, 1 << 20, 0, ba);
  ASSERT_EQ(ab.size(), 1u);
  ASSERT_EQ(ba.size(), 1u);
  EXPECT_NE(ab[0], ba[0]);
}

TEST(WordNgrams, NothingForUnigramsOrShortLines) {
  std::vector<std::int64_t> out;
  append_word_ngrams(std::vector<std::uint32_t>{1, 2, 3}, 1, 100, 0, out);
  EXPECT_TRUE(out.empty());
  append_word_ngrams(std::vector<std::uint32_t>{1}, 5, 100, 0, out);
  EXPECT_TRUE(out.empty());
  append_word_ngrams(std::vector<std::uint32_t>{1, 2}, 2, 0, 0, out);
  EXPECT_TRUE(out.empty());
  EXPECT_THROW(append_word_ngrams(std::vector<std::uint32_t>{1, 2}, 2, -1, 0, out), ValueError);
}

}  // namespace
}  // namespace embedkit::models
