#include "embedkit/core/key_index.hpp"

namespace embedkit {

KeyIndex::Added KeyIndex::add(std::string_view key) {
  // Look up first: a key already held (most tokens of a corpus) costs no string allocation.
  if (const auto it = rows_.find(key); it != rows_.end()) return {it->second, false};
  const std::int64_t row = size();
  keys_.emplace_back(key);
  try {
    rows_.emplace(keys_.back(), row);
  } catch (...) {
    keys_.pop_back();  // out of memory: leave the index as it was
    throw;
  }
  return {row, true};
}

std::optional<std::int64_t> KeyIndex::find(std::string_view key) const {
  const auto it = rows_.find(key);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

void KeyIndex::reserve(std::size_t n) {
  keys_.reserve(n);
  rows_.reserve(n);
}

}  // namespace embedkit
