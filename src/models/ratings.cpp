#include "embedkit/models/ratings.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "embedkit/core/error.hpp"
#include "embedkit/core/float_text.hpp"
#include "embedkit/io/atomic_file.hpp"

namespace embedkit::models {

namespace {

bool is_blank(std::string_view line) {
  for (const char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string> split_whitespace(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) fields.emplace_back(line.substr(start, i - start));
  }
  return fields;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

float parse_rating(const std::string& text, const std::string& where) {
  float value = 0.0f;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw ValueError(where + ": rating '" + text + "' is not a finite number");
  }
  return value;
}

std::int64_t parse_timestamp(const std::string& text, const std::string& where) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw ValueError(where + ": timestamp '" + text + "' is not a whole number");
  }
  return value;
}

// The header of an implicit-feedback file: "userId,itemId" and the like.
bool is_pair_header(const std::vector<std::string>& fields) {
  static const char* const kUsers[] = {"user", "userid", "user_id", "uid"};
  static const char* const kItems[] = {"item", "itemid", "item_id", "movieid", "movie_id", "iid"};
  const auto any_of = [](const std::string& field, const auto& names) {
    for (const char* name : names) {
      if (lower(field) == name) return true;
    }
    return false;
  };
  return fields.size() == 2 && any_of(fields[0], kUsers) && any_of(fields[1], kItems);
}

}  // namespace

std::vector<std::string> split_csv_line(std::string_view line, const std::string& where) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> fields;
  std::string field;
  std::size_t i = 0;
  while (true) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      if (!closed) throw ValueError(where + ": unterminated quoted field");
      if (i < line.size() && line[i] != ',') {
        throw ValueError(where + ": unexpected text after a closing quote");
      }
    } else {
      while (i < line.size() && line[i] != ',') field += line[i++];
    }
    fields.push_back(field);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

Ratings parse_ratings(std::string_view text, const std::string& source) {
  Ratings out;
  out.source = source;
  enum class Layout { Unknown, Csv, Whitespace } layout = Layout::Unknown;
  std::size_t expected_fields = 0;
  std::int64_t line_no = 0;
  std::size_t pos = 0;
  bool first_content = true;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (is_blank(line)) continue;
    const std::string where = source + ":" + std::to_string(line_no);
    if (layout == Layout::Unknown) {
      layout = line.find(',') != std::string_view::npos ? Layout::Csv : Layout::Whitespace;
    }
    std::vector<std::string> fields =
        layout == Layout::Csv ? split_csv_line(line, where) : split_whitespace(line);
    if (layout == Layout::Csv) {
      for (std::string& f : fields) f = std::string(trim(f));
    }
    if (first_content) {
      first_content = false;
      if (fields.size() >= 3 && lower(fields[2]) == "rating") continue;  // header
      if (is_pair_header(fields)) continue;
    }
    if (expected_fields == 0) {
      if (fields.size() < 2 || fields.size() > 4) {
        throw ValueError(where +
                         ": expected 2, 3 or 4 fields (user item [rating [timestamp]]), got " +
                         std::to_string(fields.size()));
      }
      expected_fields = fields.size();
      out.has_timestamps = expected_fields == 4;
      out.implicit = expected_fields == 2;
    } else if (fields.size() != expected_fields) {
      throw ValueError(where + ": expected " + std::to_string(expected_fields) +
                       " fields like the first rating line, got " + std::to_string(fields.size()));
    }
    if (fields[0].empty()) throw ValueError(where + ": empty user id");
    if (fields[1].empty()) throw ValueError(where + ": empty item id");
    Rating r;
    r.rating = out.implicit ? 1.0f : parse_rating(fields[2], where);
    if (out.has_timestamps) r.timestamp = parse_timestamp(fields[3], where);
    r.user = std::move(fields[0]);
    r.item = std::move(fields[1]);
    r.line = line_no;
    out.rows.push_back(std::move(r));
  }
  if (out.rows.empty()) throw ValueError(source + ": no ratings in the file");
  return out;
}

Ratings read_ratings(const std::filesystem::path& path) {
  std::error_code ec;
  // A directory opens as a stream that reads nothing: say what it is, not "no ratings".
  if (std::filesystem::is_directory(path, ec)) throw IoError(path.string(), "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(),
                  "cannot open the ratings file: " + std::string(std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IoError(path.string(), "read error");
  return parse_ratings(buffer.view(), path.string());
}

namespace {

void append_csv_field(std::string& out, const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    out += field;
    return;
  }
  out += '"';
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

void write_ratings_csv(const std::filesystem::path& path, const std::vector<Rating>& rows) {
  io::AtomicFile file(path);
  std::string buf = "userId,movieId,rating,timestamp\n";
  char num[32];
  for (const Rating& r : rows) {
    append_csv_field(buf, r.user);
    buf += ',';
    append_csv_field(buf, r.item);
    buf += ',';
    append_shortest_float_text(buf, r.rating);
    buf += ',';
    const auto res = std::to_chars(num, num + sizeof num, r.timestamp);
    buf.append(num, res.ptr);
    buf += '\n';
    if (buf.size() >= (1u << 20)) {
      file.write(buf.data(), buf.size());
      buf.clear();
    }
  }
  file.write(buf.data(), buf.size());
  file.commit();
}

}  // namespace embedkit::models
