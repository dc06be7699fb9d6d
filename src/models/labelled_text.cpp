#include "embedkit/models/labelled_text.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <system_error>

#include "embedkit/core/error.hpp"

namespace embedkit::models {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Calls f(token) for each whitespace-separated token of `text`.
template <class F>
void for_each_token(std::string_view text, F&& f) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t begin = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > begin) f(text.substr(begin, i - begin));
  }
}

std::string token_string(std::string_view token, bool lowercase) {
  std::string s(token);
  if (lowercase) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

void append_words(std::string_view text, bool lowercase, std::vector<std::string>& out) {
  for_each_token(text, [&](std::string_view t) { out.push_back(token_string(t, lowercase)); });
}

std::string_view trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

TextFormat detect(std::string_view line, const std::string& prefix) {
  bool labelled = false;
  for_each_token(line, [&](std::string_view t) { labelled = labelled || t.starts_with(prefix); });
  if (labelled) return TextFormat::FastText;
  if (line.find('\t') != std::string_view::npos) return TextFormat::Tab;
  return TextFormat::Trec;
}

}  // namespace

TextFormat parse_text_format(const std::string& name) {
  if (name == "auto") return TextFormat::Auto;
  if (name == "fasttext") return TextFormat::FastText;
  if (name == "tab") return TextFormat::Tab;
  if (name == "trec") return TextFormat::Trec;
  throw ValueError("unknown text format '" + name + "' (auto, fasttext, tab or trec)");
}

std::string text_format_name(TextFormat format) {
  switch (format) {
    case TextFormat::Auto:
      return "auto";
    case TextFormat::FastText:
      return "fasttext";
    case TextFormat::Tab:
      return "tab";
    case TextFormat::Trec:
      return "trec";
  }
  return "auto";
}

void split_fasttext_line(std::string_view line, const LabelledTextOptions& options,
                         std::vector<std::string>& labels, std::vector<std::string>& words) {
  labels.clear();
  words.clear();
  const std::string& prefix = options.label_prefix;
  for_each_token(line, [&](std::string_view t) {
    if (!prefix.empty() && t.starts_with(prefix)) {
      labels.emplace_back(t.substr(prefix.size()));
    } else {
      words.push_back(token_string(t, options.lowercase));
    }
  });
}

std::vector<LabelledExample> read_labelled_text(const std::filesystem::path& path,
                                                const LabelledTextOptions& options) {
  if (options.label_prefix.empty()) throw ValueError("the label prefix must not be empty");
  std::error_code ec;
  // A directory opens as a stream whose first read fails: say what it is, not "read error".
  if (std::filesystem::is_directory(path, ec)) throw IoError(path.string(), "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError(path.string(), "cannot open the file: " + std::string(std::strerror(errno)));
  return read_labelled_text(in, path.string(), options);
}

std::vector<LabelledExample> read_labelled_text(std::istream& in, const std::string& name,
                                                const LabelledTextOptions& options) {
  if (options.label_prefix.empty()) throw ValueError("the label prefix must not be empty");
  TextFormat format = options.format;
  std::vector<LabelledExample> out;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty()) continue;
    if (format == TextFormat::Auto) format = detect(line, options.label_prefix);
    auto fail = [&](const std::string& why) {
      throw IoError(name, "line " + std::to_string(number) + ": " + why);
    };
    LabelledExample e;
    e.line = number;
    switch (format) {
      case TextFormat::FastText:
        split_fasttext_line(line, options, e.labels, e.words);
        for (const std::string& l : e.labels) {
          if (l.empty()) fail("empty label ('" + options.label_prefix + "' alone)");
        }
        if (e.labels.empty())
          fail("no label (no token starts with '" + options.label_prefix + "')");
        break;
      case TextFormat::Tab: {
        const auto tab = line.rfind('\t');
        if (tab == std::string::npos) fail("no label: expected 'sentence<TAB>label'");
        const std::string_view label = trim(std::string_view(line).substr(tab + 1));
        if (label.empty()) fail("no label after the tab");
        e.labels.emplace_back(label);
        append_words(std::string_view(line).substr(0, tab), options.lowercase, e.words);
        break;
      }
      case TextFormat::Trec: {
        const std::string_view body = trim(line);
        const auto space = body.find_first_of(" \t");
        const auto colon = body.find(':');
        if (colon == std::string_view::npos || colon == 0 ||
            (space != std::string_view::npos && colon > space)) {
          fail("no label: expected 'COARSE:fine question'");
        }
        e.labels.emplace_back(body.substr(0, colon));
        if (space != std::string_view::npos) {
          append_words(body.substr(space + 1), options.lowercase, e.words);
        }
        break;
      }
      case TextFormat::Auto:
        break;
    }
    if (e.words.empty()) fail("no words");
    out.push_back(std::move(e));
  }
  if (in.bad()) throw IoError(name, "read error");
  if (out.empty()) throw IoError(name, "no labelled lines in the file (it is empty or blank)");
  return out;
}

}  // namespace embedkit::models
