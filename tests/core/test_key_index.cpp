// KeyIndex (core/key_index.hpp), the one string -> row map, and KeyError's one message shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
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

// from_table takes a table slots() gave back without hashing a key: the same rows for every
// key, nothing for others, and adding goes on as in the original.
TEST(KeyIndex, FromTableTakesBackTheTableOfSlots) {
  KeyIndex index;
  for (int i = 0; i < 1000; ++i) index.add("key" + std::to_string(i));
  const std::vector<KeyIndex::Slot> slots(index.slots().begin(), index.slots().end());
  KeyIndex back = KeyIndex::from_table(index.keys(), slots);
  EXPECT_EQ(back.keys(), index.keys());
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(back.find("key" + std::to_string(i)), std::optional<std::int64_t>(i));
  }
  EXPECT_EQ(back.find("key1000"), std::nullopt);
  for (int i = 1000; i < 3000; ++i) EXPECT_EQ(back.add("key" + std::to_string(i)).row, i);
  EXPECT_FALSE(back.add("key5").inserted);
  for (int i = 0; i < 3000; ++i) {
    EXPECT_EQ(back.find("key" + std::to_string(i)), std::optional<std::int64_t>(i));
  }
  EXPECT_TRUE(KeyIndex::from_table({}, {}).empty());
  EXPECT_EQ(KeyIndex::hash("key7"), std::hash<std::string_view>{}("key7"));
}

// A borrowed table (a stored index's, mapped from its file) is used where it lies, kept alive by
// its owner for the index and its copies, and copied into the index's own memory, unchanged, only
// when a key is added.
TEST(KeyIndex, FromTableBorrowsATableUntilAKeyIsAdded) {
  KeyIndex index;
  for (int i = 0; i < 1000; ++i) index.add("key" + std::to_string(i));
  auto memory =
      std::make_shared<std::vector<KeyIndex::Slot>>(index.slots().begin(), index.slots().end());
  const std::vector<KeyIndex::Slot> before = *memory;
  std::weak_ptr<std::vector<KeyIndex::Slot>> alive = memory;
  KeyIndex borrowed = KeyIndex::from_table(index.keys(), *memory, memory);
  memory.reset();  // the index holds it now
  ASSERT_FALSE(alive.expired());
  const KeyIndex::Slot* table = alive.lock()->data();
  EXPECT_EQ(borrowed.slots().data(), table);  // not copied
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(borrowed.find("key" + std::to_string(i)), std::optional<std::int64_t>(i));
  }
  EXPECT_EQ(borrowed.find("key1000"), std::nullopt);
  EXPECT_FALSE(borrowed.add("key5").inserted);  // a key held: nothing copied
  EXPECT_EQ(borrowed.slots().data(), table);
  KeyIndex copy = borrowed;  // shares the borrowed table
  EXPECT_EQ(copy.slots().data(), table);
  EXPECT_EQ(copy.add("key1000").row, 1000);  // copied first, then added to
  EXPECT_NE(copy.slots().data(), table);
  const auto same = [](const KeyIndex::Slot& a, const KeyIndex::Slot& b) {
    return a.hash == b.hash && a.row == b.row;
  };
  EXPECT_TRUE(std::equal(before.begin(), before.end(), alive.lock()->begin(), same))
      << "the borrowed memory changed";
  EXPECT_EQ(copy.find("key1000"), std::optional<std::int64_t>(1000));
  EXPECT_EQ(borrowed.find("key1000"), std::nullopt);
  borrowed.reserve(5000);  // copies too
  EXPECT_NE(borrowed.slots().data(), table);
  EXPECT_TRUE(alive.expired());  // neither index reads it any more
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(borrowed.find("key" + std::to_string(i)), std::optional<std::int64_t>(i));
    EXPECT_EQ(copy.find("key" + std::to_string(i)), std::optional<std::int64_t>(i));
  }
  EXPECT_TRUE(KeyIndex::from_table({}, {}, nullptr).empty());
}

// Each inconsistency a sequential pass can see is refused, naming it.
TEST(KeyIndex, FromTableRefusesAnInconsistentTable) {
  KeyIndex index;
  for (int i = 0; i < 6; ++i) index.add("k" + std::to_string(i));
  const std::vector<std::string> keys = index.keys();
  const std::vector<KeyIndex::Slot> good(index.slots().begin(), index.slots().end());
  ASSERT_EQ(good.size(), 16u);
  // The message of the owned form, which the borrowed form must give too.
  const auto message = [&](std::vector<std::string> k, std::vector<KeyIndex::Slot> s) {
    std::string borrowed = "accepted";
    try {
      KeyIndex::from_table(k, s, std::make_shared<int>(0));
    } catch (const embedkit::ValueError& e) {
      borrowed = e.what();
    }
    try {
      KeyIndex::from_table(std::move(k), std::move(s));
    } catch (const embedkit::ValueError& e) {
      EXPECT_EQ(borrowed, e.what());
      return std::string(e.what());
    }
    EXPECT_EQ(borrowed, "accepted");
    return std::string("accepted");
  };
  const auto held = [&](int nth) {  // the position of the nth held slot
    int seen = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
      if (good[i].row >= 0 && seen++ == nth) return i;
    }
    return good.size();
  };
  EXPECT_EQ(message(keys, good), "accepted");
  EXPECT_NE(message(keys, {}).find("6 keys and no table"), std::string::npos);
  std::vector<KeyIndex::Slot> s = good;
  s.pop_back();  // 15 slots: not a power of two
  EXPECT_NE(message(keys, s).find("a table of 15 slots for 6 keys"), std::string::npos);
  std::vector<std::string> many = keys;
  for (int i = 6; i < 9; ++i) many.push_back("k" + std::to_string(i));  // 9 keys, 16 slots
  EXPECT_NE(message(many, good).find("at least twice the keys"), std::string::npos);
  s = good;
  s[held(0)].row = 6;
  EXPECT_NE(message(keys, s).find("holds row 6 of 6"), std::string::npos);
  s = good;
  s[held(0)].row = -2;
  EXPECT_NE(message(keys, s).find("holds row -2"), std::string::npos);
  s = good;
  s[held(1)].row = s[held(0)].row;
  EXPECT_NE(message(keys, s).find("is in two slots"), std::string::npos);
  s = good;
  s[held(2)].row = -1;
  EXPECT_NE(message(keys, s).find("5 slots held for 6 keys"), std::string::npos);
  // Two keys by hand. "a" two slots past its hash's first slot, with that slot and the next
  // empty (find() stops at the first), is refused; one slot past, behind a key whose first slot
  // is the same, it is accepted and found.
  const std::size_t ha = KeyIndex::hash("a") & 15;
  std::string apart = "b";  // a key whose first slot is none of "a"'s three
  while (((KeyIndex::hash(apart) - ha) & 15) < 3) apart += "b";
  std::string along = "c";  // a key whose first slot is "a"'s
  while ((KeyIndex::hash(along) & 15) != ha) along += "c";
  std::vector<KeyIndex::Slot> by_hand(16);
  by_hand[(ha + 2) & 15] = {KeyIndex::hash("a"), 0};
  by_hand[KeyIndex::hash(apart) & 15] = {KeyIndex::hash(apart), 1};
  EXPECT_NE(message({"a", apart}, by_hand)
                .find("slot " + std::to_string((ha + 2) & 15) + " (row 0) cannot be reached"),
            std::string::npos);
  by_hand.assign(16, KeyIndex::Slot{});
  by_hand[ha] = {KeyIndex::hash(along), 1};
  by_hand[(ha + 1) & 15] = {KeyIndex::hash("a"), 0};
  EXPECT_EQ(message({"a", along}, by_hand), "accepted");
  // "a" in 257 slots in a row from its first one (a count of slots in a byte would wrap round).
  std::vector<KeyIndex::Slot> wide(1024);
  const std::size_t wa = KeyIndex::hash("a") & 1023;
  for (std::size_t k = 0; k < 257; ++k) wide[(wa + k) & 1023] = {KeyIndex::hash("a"), 0};
  std::string far = "b";  // a key whose first slot is outside that run and the slot after it
  while (((KeyIndex::hash(far) - wa) & 1023) < 258) far += "b";
  wide[KeyIndex::hash(far) & 1023] = {KeyIndex::hash(far), 1};
  EXPECT_NE(message({"a", far}, wide).find("row 0 is in two slots"), std::string::npos);
  const KeyIndex taken = KeyIndex::from_table({"a", along}, by_hand);
  EXPECT_EQ(taken.find("a"), std::optional<std::int64_t>(0));
  EXPECT_EQ(taken.find(along), std::optional<std::int64_t>(1));
}

TEST(KeyError, HasOneMessageShapeAndIsAValueError) {
  const embedkit::KeyError e("label", "__label__x", "dictionary");
  EXPECT_STREQ(e.what(), "label '__label__x' is not in the dictionary");
  EXPECT_EQ(e.key(), "__label__x");
  const embedkit::ValueError& as_value_error = e;
  EXPECT_STREQ(as_value_error.what(), e.what());
}

}  // namespace
