#include "labelled_text.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "embedkit/core/error.hpp"

namespace embedkit::examples {

namespace {

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back(w);
  }
  return out;
}

TextFormat detect(const std::string& line) {
  if (line.rfind("__label__", 0) == 0) return TextFormat::FastText;
  if (line.find('\t') != std::string::npos) return TextFormat::Tab;
  return TextFormat::Trec;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

TextFormat parse_text_format(const std::string& name) {
  if (name == "auto") return TextFormat::Auto;
  if (name == "tab") return TextFormat::Tab;
  if (name == "trec") return TextFormat::Trec;
  if (name == "fasttext") return TextFormat::FastText;
  throw ValueError("unknown text format '" + name + "' (auto, tab, trec or fasttext)");
}

std::vector<LabelledSentence> read_labelled_text(const std::string& path, TextFormat format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open the file");
  std::vector<LabelledSentence> out;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    if (format == TextFormat::Auto) format = detect(line);
    auto fail = [&](const std::string& why) {
      throw IoError(path, "line " + std::to_string(number) + ": " + why);
    };
    LabelledSentence s;
    switch (format) {
      case TextFormat::Tab: {
        const auto tab = line.rfind('\t');
        if (tab == std::string::npos) fail("expected 'sentence<TAB>label'");
        s.label = trim(line.substr(tab + 1));
        s.tokens = words(line.substr(0, tab));
        break;
      }
      case TextFormat::Trec: {
        const auto space = line.find(' ');
        const auto colon = line.find(':');
        if (colon == std::string::npos || space == std::string::npos || colon > space) {
          fail("expected 'COARSE:fine question'");
        }
        s.label = line.substr(0, colon);
        s.tokens = words(line.substr(space + 1));
        break;
      }
      case TextFormat::FastText: {
        std::vector<std::string> all = words(line);
        for (const std::string& w : all) {
          if (w.rfind("__label__", 0) == 0) {
            if (s.label.empty()) s.label = w.substr(9);
          } else {
            s.tokens.push_back(w);
          }
        }
        break;
      }
      case TextFormat::Auto:
        break;
    }
    if (s.label.empty()) fail("no label");
    if (s.tokens.empty()) fail("no words");
    out.push_back(std::move(s));
  }
  if (in.bad()) throw IoError(path, "read error");
  if (out.empty()) throw IoError(path, "no labelled sentences in the file");
  return out;
}

}  // namespace embedkit::examples
