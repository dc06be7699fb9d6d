#include "embedkit/models/id_map.hpp"

#include "embedkit/core/error.hpp"

namespace embedkit::models {

IdMap IdMap::from_names(std::vector<std::string> names) {
  IdMap map;
  map.rows_.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      throw ValueError("IdMap: empty id at row " + std::to_string(i));
    }
    if (!map.rows_.add(names[i]).inserted) {
      throw ValueError("IdMap: id '" + names[i] + "' appears twice");
    }
  }
  return map;
}

std::int64_t IdMap::add(std::string_view name) {
  return rows_.add(name).row;
}

const std::string& IdMap::name(std::int64_t row) const {
  if (row < 0 || row >= size()) throw IndexError("IdMap row", 0, row, 0, size() - 1);
  return rows_.key(row);
}

}  // namespace embedkit::models
