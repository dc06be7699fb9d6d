#include "batch_queries.hpp"

#include <unistd.h>

#include <fstream>
#include <iostream>

#include "embedkit/core/error.hpp"
#include "std_streams.hpp"
#include "terminal_text.hpp"

namespace embedkit::cli {

void QueryBlocks::answer(const std::string& heading, Json on_error,
                         const std::function<Json()>& answer) {
  if (!json_) std::cout << heading << '\n';
  try {
    all_.push(answer());
  } catch (const Error& e) {
    print_error(command_, e.what());
    all_.push(std::move(on_error.set("error", std::string(e.what()))));
    failed_ = true;
  }
  if (!json_) std::cout << '\n';
}

int QueryBlocks::finish() const {
  if (json_) std::cout << all_.dump();
  return failed_ ? 1 : 0;
}

void for_each_query_line(const std::string& path, const std::string& prompt,
                         const std::function<void(const std::string& line)>& on_line) {
  std::ifstream file;
  if (!is_std_stream(path)) {
    open_input_file(file, path, "the file of queries");
  }
  std::istream& in = is_std_stream(path) ? std::cin : file;
  const bool by_hand = is_std_stream(path) && ::isatty(STDIN_FILENO) == 1;
  const auto ask = [&] {
    if (by_hand) std::cerr << prompt << std::flush;
  };
  std::string line;
  for (ask(); std::getline(in, line); ask()) {
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const std::size_t last = line.find_last_not_of(" \t\r");
    on_line(line.substr(first, last - first + 1));
    if (by_hand) std::cout << std::flush;
  }
  if (by_hand) std::cerr << '\n';
  if (in.bad()) throw IoError(is_std_stream(path) ? std::string(kStdinName) : path, "read error");
}

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

void refuse_two_stdin_readers(const std::string& input, const std::string& input_name,
                              const std::string& queries) {
  if (is_std_stream(input) && is_std_stream(queries)) {
    throw ValueError(input_name +
                     " and the queries cannot both be '-' (standard input is read once): give " +
                     input_name + " as a file");
  }
}

}  // namespace embedkit::cli
