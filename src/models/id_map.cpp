#include "embedkit/models/id_map.hpp"

#include <utility>

#include "embedkit/core/error.hpp"

namespace embedkit::models {

IdMap IdMap::from_names(std::vector<std::string> names) {
  IdMap map;
  map.rows_.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      throw ValueError("IdMap: empty id at row " + std::to_string(i));
    }
    if (!map.rows_.emplace(names[i], static_cast<std::int64_t>(i)).second) {
      throw ValueError("IdMap: id '" + names[i] + "' appears twice");
    }
  }
  map.names_ = std::move(names);
  return map;
}

std::int64_t IdMap::add(std::string_view name) {
  const auto [it, inserted] = rows_.emplace(std::string(name), size());
  if (inserted) names_.emplace_back(name);
  return it->second;
}

std::optional<std::int64_t> IdMap::find(std::string_view name) const {
  const auto it = rows_.find(std::string(name));
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

const std::string& IdMap::name(std::int64_t row) const {
  if (row < 0 || row >= size()) throw IndexError("IdMap row", 0, row, 0, size() - 1);
  return names_[static_cast<std::size_t>(row)];
}

}  // namespace embedkit::models
