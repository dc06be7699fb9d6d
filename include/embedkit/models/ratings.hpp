// Reading user-item ratings for the recommender.
//
// Two layouts, told apart by the first non-blank line:
//   - CSV (the line holds a comma), MovieLens style: "userId,movieId,rating[,timestamp]". A
//     first line whose third field is "rating" (any case) is a header and skipped; fields may be
//     double-quoted (RFC 4180, "" for a quote inside).
//   - Whitespace-separated "user item rating [timestamp]" (spaces or tabs; MovieLens 100k's
//     u.data reads as is).
// A file of "user item" pairs alone (two fields a line, CSV or whitespace) is implicit feedback:
// each pair is one observation rated 1 (`implicit` is set). Its header, when it has one, is a
// first line "userId,itemId" (user, userid, user_id or uid; item, itemid, item_id, movieid,
// movie_id or iid; any case).
// Ids are arbitrary non-empty strings. Ratings are finite decimal numbers; timestamps are whole
// numbers. Every data line must have the field count of the first (2, 3 or 4). Blank lines are
// skipped. Anything else (a wrong field count, a rating that is not a number, an empty id, a
// bad timestamp) throws ValueError naming the file and the line: "ratings.csv:12: ...". A file
// with no ratings is an error too. The same (user, item) pair may appear more than once: each
// line is one observation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace embedkit::models {

struct Rating {
  std::string user;
  std::string item;
  float rating = 0.0f;
  std::int64_t timestamp = 0;  // 0 when the file has no timestamps
  std::int64_t line = 0;       // 1-based line in the source, for messages
};

struct Ratings {
  std::vector<Rating> rows;  // in file order
  bool has_timestamps = false;
  bool implicit = false;  // "user item" pairs without ratings: every rating is 1
  std::string source;     // the file name, for messages
};

// Reads a ratings file (IoError when it cannot be read; ValueError on bad contents).
Ratings read_ratings(const std::filesystem::path& path);
// Parses ratings from memory; messages name `source`.
Ratings parse_ratings(std::string_view text, const std::string& source);

// Splits one CSV line into fields (RFC 4180 quoting; no embedded newlines). Throws ValueError
// with `where` ("file:line") for an unterminated quote or text after a closing quote.
std::vector<std::string> split_csv_line(std::string_view line, const std::string& where);

// Writes ratings as MovieLens-style CSV ("userId,movieId,rating,timestamp" header), quoting ids
// that need it, atomically.
void write_ratings_csv(const std::filesystem::path& path, const std::vector<Rating>& rows);

}  // namespace embedkit::models
