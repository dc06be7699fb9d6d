#include "embedkit/models/item_titles.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "embedkit/core/error.hpp"
#include "embedkit/models/ratings.hpp"

namespace embedkit::models {

std::unordered_map<std::string, std::string> read_item_titles(const std::filesystem::path& path) {
  std::error_code ec;
  // A directory opens as a stream whose first read fails: say what it is, not "read error".
  if (std::filesystem::is_directory(path, ec)) throw IoError(path.string(), "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string(), "cannot open the titles file");
  std::unordered_map<std::string, std::string> titles;
  std::string line;
  std::int64_t line_no = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(line_no);
    const std::vector<std::string> fields = split_csv_line(line, where);
    if (first) {
      first = false;
      if (fields.size() >= 2) {
        std::string second = fields[1];
        for (char& c : second) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (second == "title") continue;
      }
    }
    if (fields.size() < 2) {
      throw ValueError(where + ": expected at least 2 fields (id,title), got " +
                       std::to_string(fields.size()));
    }
    if (fields[0].empty()) throw ValueError(where + ": empty item id");
    if (!titles.emplace(fields[0], fields[1]).second) {
      throw ValueError(where + ": item id '" + fields[0] + "' given twice");
    }
  }
  if (in.bad()) throw IoError(path.string(), "read error");
  return titles;
}

}  // namespace embedkit::models
