// IdMap: external string ids (a user's or an item's id as the ratings file spells it) mapped to
// dense table rows 0..size()-1, in order of first appearance. The recommender's embedding
// tables are indexed by these rows; the map is saved with the model so that a loaded model
// answers in the file's ids. An id the map does not hold is reported as such (find() returns
// nothing), never mapped to row 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace embedkit::models {

class IdMap {
 public:
  IdMap() = default;
  // A map over `names` in this order. Throws ValueError for an empty or duplicate name.
  static IdMap from_names(std::vector<std::string> names);

  // The row of `name`, adding it at the end when new.
  std::int64_t add(std::string_view name);
  // The row of `name`, or nothing when the map does not hold it.
  std::optional<std::int64_t> find(std::string_view name) const;
  bool contains(std::string_view name) const { return find(name).has_value(); }
  // The name of `row` (0 <= row < size(); throws IndexError otherwise).
  const std::string& name(std::int64_t row) const;

  std::int64_t size() const { return static_cast<std::int64_t>(names_.size()); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::int64_t> rows_;
};

}  // namespace embedkit::models
