// KeyIndex (core/key_index.hpp), the one string -> row map, and KeyError's one message shape.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/core/key_index.hpp"

namespace {

using embedkit::KeyIndex;

TEST(KeyIndex, GivesRowsInOrderOfInsertion) {
  KeyIndex index;
  EXPECT_TRUE(index.empty());
  const KeyIndex::Added b = index.add("b");
  EXPECT_EQ(b.row, 0);
  EXPECT_TRUE(b.inserted);
  EXPECT_EQ(index.add("a").row, 1);
  const KeyIndex::Added again = index.add("b");
  EXPECT_EQ(again.row, 0);
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(index.size(), 2);
  EXPECT_EQ(index.keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(index.key(1), "a");
}

TEST(KeyIndex, TakeKeysHandsThemOnInOrderAndEmptiesTheIndex) {
  KeyIndex index;
  for (const char* k : {"c", "a", "b", "a"}) index.add(k);
  EXPECT_EQ(std::move(index).take_keys(), (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_TRUE(index.empty());  // NOLINT(bugprone-use-after-move): take_keys leaves it empty
  EXPECT_FALSE(index.find("a").has_value());
  const KeyIndex::Added again = index.add("a");
  EXPECT_EQ(again.row, 0);
  EXPECT_TRUE(again.inserted);
}

TEST(KeyIndex, ReportsAMissingKeyAsNullopt) {
  KeyIndex index;
  index.add("word");
  EXPECT_EQ(index.find("word"), std::optional<std::int64_t>(0));
  EXPECT_EQ(index.find("Word"), std::nullopt);
  EXPECT_EQ(index.find(""), std::nullopt);
  EXPECT_TRUE(index.contains("word"));
  EXPECT_FALSE(index.contains("wor"));
}

TEST(KeyIndex, LooksUpAViewOfALongerString) {
  // Heterogeneous lookup: the key is compared as the view says, not up to a NUL.
  KeyIndex index;
  index.add("ab");
  const std::string text = "abc";
  EXPECT_EQ(index.find(std::string_view(text).substr(0, 2)), std::optional<std::int64_t>(0));
  EXPECT_EQ(index.find(text), std::nullopt);
  const std::string with_nul("a\0b", 3);
  index.add(with_nul);
  EXPECT_EQ(index.find(with_nul), std::optional<std::int64_t>(1));
  EXPECT_EQ(index.find("a"), std::nullopt);
}

TEST(KeyIndex, KeepsItsRowsThroughGrowth) {
  KeyIndex index;
  index.reserve(4);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(index.add("key" + std::to_string(i)).row, i);
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(index.find("key" + std::to_string(i)), std::optional<std::int64_t>(i));
    EXPECT_EQ(index.key(i), "key" + std::to_string(i));
  }
}

TEST(KeyIndex, CopiesAreIndependentAndEmptyKeysAreKeys) {
  // The table is open addressing over rows of keys(): a copy holds its own, and an empty key
  // (the owner decides whether it is allowed) is found like any other.
  KeyIndex index;
  for (int i = 0; i < 100; ++i) index.add(std::to_string(i));
  KeyIndex copy = index;
  copy.add("");
  copy.add("extra");
  EXPECT_EQ(copy.find(""), std::optional<std::int64_t>(100));
  EXPECT_EQ(copy.find("extra"), std::optional<std::int64_t>(101));
  EXPECT_EQ(index.find("extra"), std::nullopt);
  EXPECT_EQ(index.find(""), std::nullopt);
  EXPECT_EQ(index.size(), 100);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(copy.find(std::to_string(i)), std::optional<std::int64_t>(i));
  }
  KeyIndex empty;
  EXPECT_EQ(empty.find("x"), std::nullopt);
  EXPECT_FALSE(empty.contains(""));
}

// prefetch is a hint: on an empty index, for keys held and not, it changes nothing that add
// and find report.
TEST(KeyIndex, PrefetchChangesNothing) {
  KeyIndex index;
  index.prefetch("a");
  EXPECT_TRUE(index.empty());
  for (int i = 0; i < 300; ++i) {
    index.prefetch("key" + std::to_string(i + 5));
    index.prefetch("key" + std::to_string(i));
    EXPECT_EQ(index.add("key" + std::to_string(i)).row, i);
  }
  index.prefetch("missing");
  EXPECT_EQ(index.find("missing"), std::nullopt);
  EXPECT_EQ(index.size(), 300);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(index.find("key" + std::to_string(i)), std::optional<std::int64_t>(i));
  }
}

TEST(KeyError, HasOneMessageShapeAndIsAValueError) {
  const embedkit::KeyError e("label", "__label__x", "dictionary");
  EXPECT_STREQ(e.what(), "label '__label__x' is not in the dictionary");
  EXPECT_EQ(e.key(), "__label__x");
  const embedkit::ValueError& as_value_error = e;
  EXPECT_STREQ(as_value_error.what(), e.what());
}

}  // namespace
