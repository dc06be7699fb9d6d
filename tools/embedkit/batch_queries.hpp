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
#include <vector>

namespace embedkit::cli {

// Calls `on_line` with each line of `path` ('-': standard input) that is not blank, without
// its surrounding whitespace (and '\r'), as it is read: a pipe gets its answers as it goes.
// When the lines come from a terminal, `prompt` ("Query word? ", fastText's) is shown on
// stderr before each one and the answers are flushed, so the command can be used by hand.
void for_each_query_line(const std::string& path, const std::string& prompt,
                         const std::function<void(const std::string& line)>& on_line);

// The words of a line, split at spaces and tabs.
std::vector<std::string> split_words(std::string_view line);

// Refuses (ValueError) a query source that is standard input when `input` is too.
void refuse_two_stdin_readers(const std::string& input, const std::string& input_name,
                              const std::string& queries);

}  // namespace embedkit::cli
