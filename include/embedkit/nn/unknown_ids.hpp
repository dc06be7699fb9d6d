// What to do with an id outside [0, num_embeddings).
//
// The default, and PyTorch's behaviour, is an error. Serving systems see ids that were not in
// the training vocabulary, so they may opt in to mapping them to a chosen row (an UNK row) or
// hashing them into the table. There is no silent fallback: a policy is always explicit.
#pragma once

#include <cstdint>

namespace embedkit::nn {

class UnknownIds {
 public:
  enum class Kind { Error, MapToRow, Hash };

  // Out-of-range ids raise IndexError (the default).
  static UnknownIds error() { return UnknownIds(Kind::Error, 0); }
  // Out-of-range ids read and train row `row` (validated against the table when used).
  static UnknownIds map_to_row(std::int64_t row) { return UnknownIds(Kind::MapToRow, row); }
  // Out-of-range ids go to row splitmix64(id) mod num_embeddings: a fixed, documented hash,
  // so the same unknown id always lands on the same row.
  static UnknownIds hash() { return UnknownIds(Kind::Hash, 0); }

  Kind kind() const { return kind_; }
  std::int64_t row() const { return row_; }
  bool is_error() const { return kind_ == Kind::Error; }

  // Row for an id that is outside [0, num_embeddings); num_embeddings > 0.
  std::int64_t resolve(std::int64_t id, std::int64_t num_embeddings) const;

 private:
  UnknownIds(Kind kind, std::int64_t row) : kind_(kind), row_(row) {}
  Kind kind_;
  std::int64_t row_;
};

}  // namespace embedkit::nn
