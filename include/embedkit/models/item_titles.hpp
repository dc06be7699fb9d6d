// Item titles for display: a CSV whose first two columns are an item id and its title, such as
// MovieLens movies.csv ("movieId,title,genres", titles quoted when they hold commas). A first
// line whose second field is "title" (any case) is a header. A line with fewer than two fields,
// an empty id, a bad quote or an id given twice throws ValueError naming the file and line.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_map>

namespace embedkit::models {

std::unordered_map<std::string, std::string> read_item_titles(const std::filesystem::path& path);

}  // namespace embedkit::models
