// Many queries in one process: `similar`, `analogy` and `recommend topn|similar` answer every
// query of a file or of standard input with the vectors or the model loaded once, as
// fastText's `nn` and `analogies` read their queries from standard input.
//
// A query given on the command line alone answers as it always did (the neighbours, one per
// line, or one JSON object). Several queries, or queries read from a file or '-', answer in
// blocks, one per query and in the order asked: the query on a line of its own, its answers
// (the same lines as for one query), then an empty line; with --json, one array holding each
// query's object. A query that fails (an unknown word) gets an empty block (in JSON an "error"
// member), its message goes to stderr, the others are answered, and the exit status is 1.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json.hpp"

namespace embedkit::cli {

// Calls `on_line` with each line of `path` ('-': standard input) that is not blank, without
// its surrounding whitespace (and '\r'), as it is read: a pipe gets its answers as it goes.
// When the lines come from a terminal, `prompt` ("Query word? ", fastText's) is shown on
// stderr before each one and the answers are flushed, so the command can be used by hand.
void for_each_query_line(const std::string& path, const std::string& prompt,
                         const std::function<void(const std::string& line)>& on_line);

// The words of a line, split at spaces and tabs.
std::vector<std::string> split_words(std::string_view line);

// The blocks of a batch (see above), answered one query at a time, then finish(). Every batch
// command answers through it, so they all write blocks, errors and statuses alike.
class QueryBlocks {
 public:
  // `command` names the command in error messages ("similar", "recommend topn").
  QueryBlocks(std::string command, bool json) : command_(std::move(command)), json_(json) {}

  // One block: `heading` on its own line (text), then `answer`, which prints the query's text
  // lines and returns its JSON object. When it throws an embedkit Error, the message goes to
  // stderr, `on_error` (the query's JSON without answers) gets an "error" member, and the
  // batch will exit with status 1.
  void answer(const std::string& heading, Json on_error, const std::function<Json()>& answer);

  // With --json, prints the array of every query's object; returns the exit status.
  int finish() const;

 private:
  std::string command_;
  bool json_;
  bool failed_ = false;
  Json all_ = Json::array();
};

// Refuses (ValueError) a query source that is standard input when `input` is too.
void refuse_two_stdin_readers(const std::string& input, const std::string& input_name,
                              const std::string& queries);

}  // namespace embedkit::cli
