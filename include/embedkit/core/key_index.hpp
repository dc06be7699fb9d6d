// KeyIndex: distinct string keys and their dense rows 0..size()-1, in order of insertion. It is
// the one string -> row map of the library: a model dictionary's words and labels, the words of
// KeyedVectors and the recommender's user and item ids all live in one.
//
// "Not found" is std::nullopt, everywhere: find() returns std::optional<std::int64_t>. A sentinel
// row such as -1 is a valid int64 that indexes memory when a caller forgets the check (and the
// recommender already gives negative placeholders a meaning of their own); an optional makes the
// check part of the type, and costs nothing (it is returned in two registers). A caller that wants
// an error instead asks its owner's at(), which throws KeyError ("<kind> '<key>' is not in the
// <container>", core/error.hpp).
//
// Lookups take a std::string_view and do not allocate. Each key is held once, in keys(); the
// hash table beside it is open addressing (linear probing, at most half full) of rows into
// keys() with each key's hash, so building the index of a million words costs one array, not a
// million map nodes and a second copy of every word (the first query on a large mapped vectors
// file waits for this index: docs/memory-mapping.md). The table can be stored and taken back
// without hashing a key (slots(), from_table()): the word index kept beside a mapped vectors
// file is such a table, and the index can use it where it lies (mapped from that file, not
// copied): a borrowed table, copied into the index's own memory only when a key is added.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace embedkit {

class KeyIndex {
 public:
  // What add() did: the key's row, and whether the key was new (appended at row `row`).
  struct Added {
    std::int64_t row = 0;
    bool inserted = false;
  };

  // A slot of the hash table: a key's hash and its row, or row -1 (empty).
  struct Slot {
    std::size_t hash = 0;
    std::int64_t row = -1;
  };

  KeyIndex() = default;

  // An index over `keys` (row i = keys[i]) whose hash table is `slots`, as slots() of an index
  // holding these keys in this order gave it: taken as it is, no key hashed or compared, so a
  // stored table (a million words' index read back from a file) costs copies, not a million
  // probes at random into a table far larger than the caches. Checked in sequential passes:
  // the table's size (a power of two, at least 16 and at least twice the keys; empty only
  // without keys), every slot empty or holding a row < keys.size(), every row in exactly one
  // slot, and every held slot reachable by find()'s probe from its hash's first slot (no empty
  // slot between). ValueError, naming what is wrong, otherwise. What no sequential pass can
  // check is the caller's to vouch for (a store's checksum): that each slot's hash is hash() of
  // its row's key, and that the keys are distinct; a wrong hash makes its key not found.
  static KeyIndex from_table(std::vector<std::string> keys, std::vector<Slot> slots);
  // The same checks, over a table the index does not own: `slots` stays where it is (a mapped
  // file's bytes, aligned for Slot) and `owner` keeps it alive as long as the index, or any copy
  // of it, reads it. add() and reserve() copy it into the index's own memory first.
  static KeyIndex from_table(std::vector<std::string> keys, std::span<const Slot> slots,
                             std::shared_ptr<const void> owner);
  // The hash a key is placed by: the standard library's std::hash of its bytes, the same within
  // a build (and not promised across builds: a store of slots() records the hash of a known key
  // and is not taken back by a build that hashes it otherwise).
  static std::size_t hash(std::string_view key);

  // The row of `key`, appending it at the end when new. The owner decides what a repeated or
  // an empty key means (an error naming its own data, or a count to bump).
  Added add(std::string_view key);
  // The row of `key`, or std::nullopt when the index does not hold it.
  std::optional<std::int64_t> find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key).has_value(); }
  // A hint that `key` will be added or looked up soon: starts loading the table slot where its
  // probe begins, so that a caller adding many keys (a million-word vocabulary, whose probes
  // land at random in a table far larger than the caches) can overlap those loads instead of
  // waiting for each in turn. Changes nothing; costs one hash.
  void prefetch(std::string_view key) const;

  std::int64_t size() const { return static_cast<std::int64_t>(keys_.size()); }
  bool empty() const { return keys_.empty(); }
  // The key of `row`; 0 <= row < size() (not checked: rows come from this index).
  const std::string& key(std::int64_t row) const { return keys_[static_cast<std::size_t>(row)]; }
  // Every key, row i at position i.
  const std::vector<std::string>& keys() const { return keys_; }
  // Every key, moved out (row i at position i); the index is left empty. For a reader that
  // uses the index only to find repeated keys and then hands the keys on.
  std::vector<std::string> take_keys() &&;
  void reserve(std::size_t n);
  // The hash table, for a caller that stores the index (from_table takes it back). Empty for
  // an index that never held a key.
  std::span<const Slot> slots() const { return owner_ ? borrowed_ : std::span<const Slot>(slots_); }

 private:
  // Checks `slots` as from_table says (ValueError otherwise).
  static void check_table(std::size_t keys, std::span<const Slot> slots);
  // A borrowed table copied into slots_, before a change.
  void own_table();
  // The slot that holds `key`, or the empty slot where it would go (slots_ is never full).
  std::size_t probe(std::string_view key, std::size_t hash) const;
  // Rehashes into a table of at least 2 * `keys` slots (a power of two).
  void grow(std::size_t keys);

  std::vector<std::string> keys_;
  // The table: slots_, or, while owner_ is set, borrowed_ (memory owner_ keeps alive; slots_ is
  // then empty). slots() is the one that holds.
  std::vector<Slot> slots_;
  std::span<const Slot> borrowed_;
  std::shared_ptr<const void> owner_;
};

}  // namespace embedkit
