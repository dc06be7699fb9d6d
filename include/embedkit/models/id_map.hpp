// IdMap: external string ids (a user's or an item's id as the ratings file spells it) mapped to
// dense table rows 0..size()-1, in order of first appearance. The recommender's embedding
// tables are indexed by these rows; the map is saved with the model so that a loaded model
// answers in the file's ids. An id the map does not hold is reported as such (find() returns
// std::nullopt, as every string -> row map does: core/key_index.hpp), never mapped to row 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/key_index.hpp"

namespace embedkit::models {

class IdMap {
 public:
  IdMap() = default;
  // A map over `names` in this order. Throws ValueError for an empty or duplicate name.
  static IdMap from_names(std::vector<std::string> names);

  // The row of `name`, adding it at the end when new.
  std::int64_t add(std::string_view name);
  // The row of `name`, or nothing when the map does not hold it.
  std::optional<std::int64_t> find(std::string_view name) const { return rows_.find(name); }
  bool contains(std::string_view name) const { return rows_.contains(name); }
  // The name of `row` (0 <= row < size(); throws IndexError otherwise).
  const std::string& name(std::int64_t row) const;

  std::int64_t size() const { return rows_.size(); }
  const std::vector<std::string>& names() const { return rows_.keys(); }

 private:
  KeyIndex rows_;
};

}  // namespace embedkit::models
