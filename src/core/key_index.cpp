// KeyIndex: keys in a vector, and an open-addressing table of their rows (key_index.hpp).
#include "embedkit/core/key_index.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "embedkit/core/error.hpp"

namespace embedkit {
namespace {

std::size_t hash_of(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

[[noreturn]] void refuse_table(const std::string& what) {
  throw ValueError("KeyIndex::from_table: " + what);
}

}  // namespace

std::size_t KeyIndex::hash(std::string_view key) {
  return hash_of(key);
}

namespace {

// from_table's checks in one pass without a branch per slot (half the slots of a table are
// empty, at random, so a branch on it would be mispredicted half the time): whether the table
// holds n slots, each a row of [0, n) seen in no slot before (so every row exactly once), each
// reachable from its hash's first slot. `empty` is an empty slot's position.
bool consistent(std::span<const KeyIndex::Slot> slots, std::size_t n, std::size_t empty) {
  const std::size_t capacity = slots.size();
  const std::size_t mask = capacity - 1;
  // One bit a row (a million rows' bits fit in the L2 cache), and bit n for the slots that
  // hold none.
  std::vector<std::uint64_t> seen(n / 64 + 1);
  std::uint64_t bad = 0;
  std::uint64_t held = 0;
  std::size_t run_start = 0;
  std::uint64_t previous_held = 0;  // the slot before the first one visited is `empty`
  for (std::size_t step = 1; step <= capacity; ++step) {
    const std::size_t i = (empty + step) & mask;
    const KeyIndex::Slot& slot = slots[i];
    // Rows -1 (empty) and 0..n-1 map to 0..n; anything else is out of range.
    const auto shifted = static_cast<std::uint64_t>(slot.row) + 1;
    bad |= static_cast<std::uint64_t>(shifted > n);
    const std::uint64_t taken =
        static_cast<std::uint64_t>(slot.row >= 0) & static_cast<std::uint64_t>(shifted <= n);
    const std::uint64_t all = 0 - taken;  // all ones when taken
    const std::size_t r = (static_cast<std::size_t>(slot.row) & all) | (n & ~all);
    const std::uint64_t bit = std::uint64_t{1} << (r & 63);
    std::uint64_t& word = seen[r >> 6];
    bad |= word & bit & all;  // seen before
    word |= bit;
    held += taken;
    run_start = taken & ~previous_held ? i : run_start;
    const std::size_t from_home = (i - (slot.hash & mask)) & mask;
    bad |= taken & static_cast<std::uint64_t>(from_home > ((i - run_start) & mask));
    previous_held = taken;
  }
  return bad == 0 && held == n;
}

}  // namespace

KeyIndex KeyIndex::from_table(std::vector<std::string> keys, std::vector<Slot> slots) {
  check_table(keys.size(), slots);
  KeyIndex index;
  index.keys_ = std::move(keys);
  index.slots_ = std::move(slots);
  return index;
}

KeyIndex KeyIndex::from_table(std::vector<std::string> keys, std::span<const Slot> slots,
                              std::shared_ptr<const void> owner) {
  check_table(keys.size(), slots);
  KeyIndex index;
  index.keys_ = std::move(keys);
  if (!slots.empty()) {
    index.borrowed_ = slots;
    index.owner_ = std::move(owner);
  }
  return index;
}

void KeyIndex::check_table(std::size_t n, std::span<const Slot> slots) {
  const std::size_t capacity = slots.size();
  if (capacity == 0) {
    if (n != 0) refuse_table(std::to_string(n) + " keys and no table");
    return;
  }
  // What grow() makes: a power of two, at least 16, at least twice the keys (so never more
  // than half full, and probe() always meets an empty slot).
  if ((capacity & (capacity - 1)) != 0 || capacity < 16 || capacity / 2 < n) {
    refuse_table("a table of " + std::to_string(capacity) + " slots for " + std::to_string(n) +
                 " keys (it must be a power of two, at least 16 and at least twice the keys)");
  }
  std::size_t empty = 0;  // an empty slot, where the passes start
  while (empty < capacity && slots[empty].row != -1) ++empty;
  if (empty < capacity && consistent(slots, n, empty)) return;
  // Inconsistent: the same checks again, one at a time, to say which fails first.
  std::vector<bool> seen(n);
  std::size_t held = 0;
  for (std::size_t i = 0; i < capacity; ++i) {
    const std::int64_t row = slots[i].row;
    if (row == -1) continue;
    if (row < 0 || static_cast<std::uint64_t>(row) >= n) {
      refuse_table("slot " + std::to_string(i) + " holds row " + std::to_string(row) + " of " +
                   std::to_string(n));
    }
    if (seen[static_cast<std::size_t>(row)]) {
      refuse_table("row " + std::to_string(row) + " is in two slots");
    }
    seen[static_cast<std::size_t>(row)] = true;
    ++held;
  }
  if (held != n) {
    refuse_table(std::to_string(held) + " slots held for " + std::to_string(n) + " keys");
  }
  // Linear probing finds a key in its run of held slots at or after its hash's first slot
  // ("home"): walking once round the table from an empty slot, each held slot's home must lie
  // between the start of its run and itself.
  const std::size_t mask = capacity - 1;
  std::size_t run_start = 0;
  for (std::size_t step = 1; step <= capacity; ++step) {
    const std::size_t i = (empty + step) & mask;
    if (slots[i].row < 0) continue;
    if (slots[(i - 1) & mask].row < 0) run_start = i;
    const std::size_t from_home = (i - (slots[i].hash & mask)) & mask;
    if (from_home > ((i - run_start) & mask)) {
      refuse_table("slot " + std::to_string(i) + " (row " + std::to_string(slots[i].row) +
                   ") cannot be reached from its hash's slot " +
                   std::to_string(slots[i].hash & mask));
    }
  }
  refuse_table("inconsistent");  // not reached: the checks above are the fast pass's
}

std::size_t KeyIndex::probe(std::string_view key, std::size_t hash) const {
  const std::span<const Slot> table = slots();
  const std::size_t mask = table.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = table[i];
    if (slot.row < 0) return i;
    if (slot.hash == hash && keys_[static_cast<std::size_t>(slot.row)] == key) return i;
  }
}

void KeyIndex::own_table() {
  if (!owner_) return;
  slots_.assign(borrowed_.begin(), borrowed_.end());  // may throw: the index is unchanged
  borrowed_ = {};
  owner_.reset();
}

void KeyIndex::grow(std::size_t keys) {
  std::size_t capacity = 16;
  while (capacity < 2 * keys) capacity *= 2;
  if (capacity <= slots_.size()) return;
  std::vector<Slot> table(capacity);  // may throw: the index is unchanged
  const std::size_t mask = capacity - 1;
  for (const Slot& slot : slots_) {
    if (slot.row < 0) continue;
    std::size_t i = slot.hash & mask;
    while (table[i].row >= 0) i = (i + 1) & mask;
    table[i] = slot;
  }
  slots_.swap(table);
}

KeyIndex::Added KeyIndex::add(std::string_view key) {
  // Look up first: a key already held (most tokens of a corpus) costs no string allocation.
  const std::size_t hash = hash_of(key);
  if (!slots().empty()) {
    const Slot& slot = slots()[probe(key, hash)];
    if (slot.row >= 0) return {slot.row, false};
  }
  own_table();             // may throw: nothing changed yet
  grow(keys_.size() + 1);  // may throw: nothing changed yet
  const std::int64_t row = size();
  keys_.emplace_back(key);  // may throw: nothing changed yet
  slots_[probe(key, hash)] = Slot{hash, row};
  return {row, true};
}

std::optional<std::int64_t> KeyIndex::find(std::string_view key) const {
  if (slots().empty()) return std::nullopt;
  const Slot& slot = slots()[probe(key, hash_of(key))];
  if (slot.row < 0) return std::nullopt;
  return slot.row;
}

void KeyIndex::prefetch(std::string_view key) const {
  const std::span<const Slot> table = slots();
  if (table.empty()) return;
  __builtin_prefetch(&table[hash_of(key) & (table.size() - 1)]);
}

std::vector<std::string> KeyIndex::take_keys() && {
  std::vector<std::string> keys = std::move(keys_);
  keys_.clear();
  slots_.clear();
  borrowed_ = {};
  owner_.reset();
  return keys;
}

void KeyIndex::reserve(std::size_t n) {
  own_table();
  keys_.reserve(n);
  grow(n);
}

}  // namespace embedkit
