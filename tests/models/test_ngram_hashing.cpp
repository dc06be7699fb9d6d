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

// fastText's character n-grams: whole UTF-8 characters, minn..maxn of them, the lone "<" and ">"
// left out, in (start, length) order; each as word_hash % buckets.
std::vector<std::int64_t> buckets_of(const std::vector<std::string>& grams, std::int64_t b) {
  std::vector<std::int64_t> out;
  for (const std::string& g : grams) {
    out.push_back(static_cast<std::int64_t>(word_hash(g) % static_cast<std::uint32_t>(b)));
  }
  return out;
}

TEST(CharNgrams, AreFastTextsSubstringsInOrder) {
  constexpr std::int64_t b = 2000003;
  std::vector<std::int64_t> out;
  append_char_ngram_buckets("<ab>", 1, 4, b, out);
  EXPECT_EQ(out, buckets_of({"<a", "<ab", "<ab>", "a", "ab", "ab>", "b", "b>"}, b));
  out.clear();
  append_char_ngram_buckets("<ab>", 2, 2, b, out);
  EXPECT_EQ(out, buckets_of({"<a", "ab", "b>"}, b));
  out.clear();
  // "é" is two bytes and one character: never split.
  append_char_ngram_buckets("<\xc3\xa9>", 1, 2, b, out);
  EXPECT_EQ(out, buckets_of({"<\xc3\xa9", "\xc3\xa9", "\xc3\xa9>"}, b));
}

TEST(CharNgrams, NothingWithoutMaxnAndNoBucketsIsAnError) {
  std::vector<std::int64_t> out;
  append_char_ngram_buckets("<word>", 3, 0, 0, out);
  EXPECT_TRUE(out.empty());
  EXPECT_THROW(append_char_ngram_buckets("<word>", 3, 6, 0, out), ValueError);
  EXPECT_THROW(append_char_ngram_buckets("<word>", -1, 6, 10, out), ValueError);
  append_char_ngram_buckets("<word>", 3, 6, 7, out);
  for (const std::int64_t id : out) EXPECT_LT(id, 7);
  EXPECT_EQ(out.size(), 4u + 3u + 2u + 1u);  // n = 3, 4, 5, 6 over 6 characters
}

}  // namespace
}  // namespace embedkit::models
