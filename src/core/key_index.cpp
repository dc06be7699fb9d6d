// KeyIndex: keys in a vector, and an open-addressing table of their rows (key_index.hpp).
#include "embedkit/core/key_index.hpp"

#include <functional>
#include <utility>

namespace embedkit {
namespace {

std::size_t hash_of(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

}  // namespace

std::size_t KeyIndex::probe(std::string_view key, std::size_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.row < 0) return i;
    if (slot.hash == hash && keys_[static_cast<std::size_t>(slot.row)] == key) return i;
  }
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
  if (!slots_.empty()) {
    const Slot& slot = slots_[probe(key, hash)];
    if (slot.row >= 0) return {slot.row, false};
  }
  grow(keys_.size() + 1);  // may throw: nothing changed yet
  const std::int64_t row = size();
  keys_.emplace_back(key);  // may throw: nothing changed yet
  slots_[probe(key, hash)] = Slot{hash, row};
  return {row, true};
}

std::optional<std::int64_t> KeyIndex::find(std::string_view key) const {
  if (slots_.empty()) return std::nullopt;
  const Slot& slot = slots_[probe(key, hash_of(key))];
  if (slot.row < 0) return std::nullopt;
  return slot.row;
}

void KeyIndex::prefetch(std::string_view key) const {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[hash_of(key) & (slots_.size() - 1)]);
}

std::vector<std::string> KeyIndex::take_keys() && {
  std::vector<std::string> keys = std::move(keys_);
  keys_.clear();
  slots_.clear();
  return keys;
}

void KeyIndex::reserve(std::size_t n) {
  keys_.reserve(n);
  grow(n);
}

}  // namespace embedkit
